"""Answers to the CSMS's transaction operations (OCPP 2.0.1 F01-F05, E14):
RequestStartTransaction (with remoteStartId, AuthorizeRemoteStart and a TxProfile for the
transaction),
RequestStopTransaction, GetTransactionStatus and UnlockConnector. Each answers at once; the
transaction work follows once the answer is on the wire."""

from __future__ import annotations

import functools
from typing import Any

from ..incoming import Outcome
from .profile_checks import start_problem
from .state import State201
from .topology import Authorization, Evse, Transaction201
from .transactions import Transactions201

__all__ = ["RemoteOperations"]

Payload = dict[str, Any]


class RemoteOperations:
    """Handlers (`op_<Action>`) of remote start and stop, the transaction status, unlock."""

    __slots__ = ("state", "station", "tx")

    def __init__(self, state: State201, tx: Transactions201) -> None:
        self.state = state
        self.station = state.station
        self.tx = tx

    def _free(self, wanted: int | None, token: Payload) -> Evse | None:
        """The EVSE a remote start may use: operative, not faulted, no authorized
        transaction, no authorization waiting there, not reserved for another token; a
        plugged one first."""
        evses = self.state.evses
        if wanted is not None:
            candidates = [evses[wanted]] if wanted in evses else []
        else:
            candidates = sorted(evses.values(), key=lambda e: e.plugged is None)
        for evse in candidates:
            tx = evse.transaction
            if (
                evse.operative
                and not evse.firmware_hold
                and not evse.faulted
                and evse.authorization is None
                and (tx is None or tx.id_token is None)
                and (evse.reservation is None or evse.reservation.admits(token, None))
            ):
                return evse
        return None

    async def op_RequestStartTransaction(self, p: Payload, outcome: Outcome) -> Payload:
        evse = self._free(p.get("evseId"), p["idToken"])
        if evse is None:
            self.station.explain("no EVSE free for a remote start")
            return {"status": "Rejected"}
        token, remote_id = p["idToken"], p["remoteStartId"]
        profile = p.get("chargingProfile")
        if profile is not None and not self.state.model.get_bool("SmartChargingCtrlr.Enabled"):
            profile = None  # no smart charging: the profile is ignored
        problem = start_problem(self.state, profile) if profile is not None else None
        if problem is not None:
            self.station.explain(problem[1])
            why = {"reasonCode": problem[0], "additionalInfo": problem[1]}
            return {"status": "Rejected", "statusInfo": why}
        self.station.after_reply(
            lambda: self._remote_start(evse, Authorization(token, {}, remote_id, profile), outcome)
        )
        answer: Payload = {"status": "Accepted"}
        if evse.transaction is not None:  # started at EVConnected: its id (F01.FR.19)
            answer["transactionId"] = evse.transaction.transaction_id
        return answer

    async def _remote_start(self, evse: Evse, wanted: Authorization, outcome: Outcome) -> None:
        """`wanted`: the token, the remote start's id and TxProfile; its info is decided here."""
        if outcome.fail_at == "Authorize":
            return
        token = wanted.id_token
        wanted.info = {"status": "Accepted"}
        if self.state.model.get_bool("AuthCtrlr.AuthorizeRemoteStart"):
            wanted.info = await self.state.auth.authorize(token)
            if wanted.info.get("status") != "Accepted":
                return
        if outcome.fail_at == "TransactionEvent" or self._free(evse.evse_id, token) is not evse:
            return  # taken, faulted or made Inoperative while the token was authorized
        before = self.tx.authorized(evse, wanted)
        await self.tx.update(evse, "RemoteStart", before)
        self.tx.wait_for_cable(evse)

    async def op_RequestStopTransaction(self, p: Payload, outcome: Outcome) -> Payload:
        for evse in self.state.evses.values():
            tx = evse.transaction
            if tx is not None and tx.transaction_id == p["transactionId"]:
                self.station.after_reply(functools.partial(self._remote_stop, evse, tx))
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    async def _remote_stop(self, evse: Evse, tx: Transaction201) -> None:
        if evse.transaction is tx:
            await self.tx.stop(evse, "RemoteStop", "Remote")

    async def op_GetTransactionStatus(self, p: Payload, outcome: Outcome) -> Payload:
        """E14: whether its events wait in the queue, and (for one transaction) whether it
        is still running."""
        pending = self.tx.pending
        wanted = p.get("transactionId")
        if wanted is None:
            return {"messagesInQueue": bool(pending)}
        ongoing = any(
            e.transaction is not None and e.transaction.transaction_id == wanted
            for e in self.state.evses.values()
        )
        return {"ongoingIndicator": ongoing, "messagesInQueue": pending.get(wanted, 0) > 0}

    async def op_UnlockConnector(self, p: Payload, outcome: Outcome) -> Payload:
        """F05: not during an authorized transaction; a transaction no longer authorized
        ends (UnlockCommand); a failing lock is told in a NotifyEvent."""
        evse = self.state.evse(p["evseId"])
        number = p["connectorId"]
        if evse is None or not 1 <= number <= len(evse.connectors):
            return {"status": "UnknownConnector"}
        tx = evse.transaction
        if tx is not None and evse.authorization is not None:
            return {"status": "OngoingAuthorizedTransaction"}
        c = evse.connectors[number - 1]
        if outcome.fail_at is not None:
            self.station.after_reply(
                lambda: self.tx.statuses.problem(
                    c, True, "UnlockFailed", "ConnectorPlugRetentionLock"
                )
            )
            return {"status": "UnlockFailed"}
        if tx is not None:

            async def end() -> None:
                if evse.transaction is tx:
                    await self.tx.end(evse, "UnlockCommand", tx.stopped_reason or "Other")

            self.station.after_reply(end)
        return {"status": "Unlocked"}
