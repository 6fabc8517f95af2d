"""The seam between the version-neutral gateway and the adapter of one OCPP version.

The gateway (`server.py`, `connections.py`, the registry) speaks OCPP-J and knows no payload.
What a version's payloads mean is its adapter's business (`csms/ocpp16/` for 1.6): the handlers
of the charge point's CALLs, the rules a connection applies to its frames, the actions the CSMS
may send and what their answers change. `csms/versions.py` holds the adapters by subprotocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ocppj import Call, CallResult, Dialect, FollowUp, Frame, Handler

from .services import Services

Payload = dict[str, Any]


class StationTransactions(dict[str, int]):
    """A station's transaction ids -> the CSMS's numbers; the latest `KEEP` only."""

    KEEP = 16

    def learn(self, station_id: str, number: int) -> None:
        self.pop(station_id, None)
        self[station_id] = number
        if len(self) > self.KEEP:
            del self[next(iter(self))]


class InvalidOperation(ValueError):
    """A friendly operation (the API's `/api/operations/...`) that the charger's version
    cannot make a request of, with these fields."""


class Peer(Protocol):
    """What an adapter's handlers use of the connection they serve."""

    @property
    def charger_id(self) -> str: ...

    boot_accepted: bool
    transactions: StationTransactions

    def after_reply(self, work: FollowUp) -> None:
        """Run `work` once the answer to the CALL being handled is on the wire."""

    async def call(
        self, action: str, payload: Payload, timeout: float | None = None
    ) -> Payload: ...


class Adapter(Protocol):
    """One OCPP version, as the gateway sees it."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def actions_by_profile(self) -> Mapping[str, tuple[str, ...]]:
        """Every action the CSMS may send, by the feature profile (1.6) it belongs to."""

    @property
    def csms_actions(self) -> Mapping[str, str]:
        """Every action the CSMS may send -> its feature profile."""

    def handlers(self, services: Services, peer: Peer) -> dict[str, Handler]:
        """The handler of each charge-point-initiated action, for one connection."""

    def guard(self, peer: Peer, action: str) -> None:
        """Raise an OcppError to refuse a CALL before it is handled."""

    def redact(self, frame: Frame | None, text: str) -> str:
        """`text` (the frame as on the wire) as the message log may keep it."""

    def transaction_id(self, frame: Call | CallResult, known: Mapping[str, int]) -> int | None:
        """The transaction a frame names, as the message log links it; None if none.
        `known`: the CSMS's numbers of the station's own transaction ids, as learnt so far."""

    async def record(
        self, services: Services, charger_id: str, action: str, request: Payload, result: Payload
    ) -> None:
        """Bring the CSMS's state in line with a CSMS-initiated request the charger answered
        with `result`."""

    async def request(
        self, services: Services, charger_id: str, name: str, fields: Payload
    ) -> tuple[str, Payload]:
        """The action and payload of the friendly operation `name` (remote-start, remote-stop,
        reset, change-configuration, get-configuration) with the API's `fields` (None-valued
        ones left out); InvalidOperation when there is none."""
