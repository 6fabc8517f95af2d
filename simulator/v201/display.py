"""Display messages (OCPP 2.0.1 O01-O06): SetDisplayMessage within DisplayMessageCtrlr's
formats, priorities and number of messages; GetDisplayMessages answered at once, then the
messages in NotifyDisplayMessages pages (`tbc` on all but the last); ClearDisplayMessage.
A message past its endDateTime, or of a transaction that has ended, is no longer shown."""

from __future__ import annotations

from typing import Any

from ocppj.timestamps import parse

from ..incoming import Outcome
from .reports import send_pages
from .state import State201

__all__ = ["DisplayOperations"]

Payload = dict[str, Any]
COUNT = "DisplayMessageCtrlr.DisplayMessages"  # its Actual: how many are set; maxLimit: most
PAGE = 4  # messages per NotifyDisplayMessages


def _rejected(status: str, why: str) -> Payload:
    return {"status": status, "statusInfo": {"reasonCode": status[:20], "additionalInfo": why}}


class DisplayOperations:
    """Handlers (`op_<Action>`) of the display messages the CSMS sets, reads and clears."""

    __slots__ = ("messages", "state", "station")

    def __init__(self, state: State201) -> None:
        self.state = state
        self.station = state.station
        self.messages: dict[int, Payload] = {}  # id -> MessageInfoType, as set

    async def op_SetDisplayMessage(self, p: Payload, outcome: Outcome) -> Payload:
        model = self.state.model
        message = p["message"]
        if not model.get_bool("DisplayMessageCtrlr.Enabled"):
            return _rejected("Rejected", "DisplayMessageCtrlr is not enabled")
        content = message["message"]
        if content["format"] not in model.get_list("DisplayMessageCtrlr.SupportedFormats"):
            return _rejected("NotSupportedMessageFormat", f"{content['format']} not supported")
        if message["priority"] not in model.get_list("DisplayMessageCtrlr.SupportedPriorities"):
            return _rejected("NotSupportedPriority", f"{message['priority']} not supported")
        wanted = message.get("transactionId")
        if wanted is not None and not self._running(wanted):
            return _rejected("UnknownTransaction", f"no transaction {wanted} is running")
        self._expire()
        most = model.resolve(COUNT).max_limit or 0
        if message["id"] not in self.messages and len(self.messages) >= most:
            return _rejected("Rejected", f"{int(most)} messages set already")
        self.messages[message["id"]] = message  # O06: the same id replaces it
        self._count()
        return {"status": "Accepted"}

    async def op_GetDisplayMessages(self, p: Payload, outcome: Outcome) -> Payload:
        self._expire()
        ids, priority, state = p.get("id"), p.get("priority"), p.get("state")
        chosen = [
            m
            for m in self.messages.values()
            if (not ids or m["id"] in ids)
            and (priority is None or m["priority"] == priority)
            and (state is None or m.get("state") == state)
        ]
        if not chosen:
            return {"status": "Unknown"}
        request_id = p["requestId"]
        self.station.after_reply(lambda: self._notify(request_id, chosen))
        return {"status": "Accepted"}

    async def op_ClearDisplayMessage(self, p: Payload, outcome: Outcome) -> Payload:
        if self.messages.pop(p["id"], None) is None:
            return {"status": "Unknown"}
        self._count()
        return {"status": "Accepted"}

    def shown(self) -> list[Payload]:
        """The messages the station shows now, highest priority first."""
        self._expire()
        order = {"AlwaysFront": 0, "InFront": 1, "NormalCycle": 2}
        return sorted(self.messages.values(), key=lambda m: order.get(m["priority"], 3))

    async def _notify(self, request_id: int, chosen: list[Payload]) -> None:
        cut = [chosen[n : n + PAGE] for n in range(0, len(chosen), PAGE)]

        def page(number: int) -> Payload:
            return {"requestId": request_id, "messageInfo": cut[number]}

        await send_pages(self.station, "NotifyDisplayMessages", len(cut), page)

    def _running(self, transaction_id: str) -> bool:
        return any(
            e.transaction is not None and e.transaction.transaction_id == transaction_id
            for e in self.state.evses.values()
        )

    def _expire(self) -> None:
        now = self.station.clock.now()
        for number, message in list(self.messages.items()):
            end = message.get("endDateTime")
            tx = message.get("transactionId")
            if (end is not None and parse(end) <= now) or (
                tx is not None and not self._running(tx)
            ):
                del self.messages[number]
        self._count()

    def _count(self) -> None:
        model = self.state.model
        if model.get_int(COUNT) != len(self.messages):
            model.set(COUNT, len(self.messages))
