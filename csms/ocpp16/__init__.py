"""OCPP 1.6J's adapter: its handlers, its CSMS-initiated operations, and the rules a 1.6
connection applies to its frames."""

from __future__ import annotations

from collections.abc import Mapping

from ocppj import V16, Call, CallResult, Dialect, Frame, Handler
from ocppj.errors import SecurityError

from ..adapter import Payload, Peer
from ..services import Services
from . import operations
from .friendly import request_for
from .handlers import handlers
from .operations import ACTIONS_BY_FEATURE_PROFILE, CSMS_ACTIONS, REDACTED

DIALECT = V16


class Ocpp16:
    """The 1.6 side of the CSMS (see `csms.adapter.Adapter`)."""

    dialect: Dialect = DIALECT
    actions_by_profile: Mapping[str, tuple[str, ...]] = ACTIONS_BY_FEATURE_PROFILE
    csms_actions: Mapping[str, str] = CSMS_ACTIONS

    def handlers(self, services: Services, peer: Peer) -> dict[str, Handler]:
        return handlers(services, peer)

    def guard(self, peer: Peer, action: str) -> None:
        """A charger talks only once its BootNotification was accepted."""
        if not peer.boot_accepted and action != "BootNotification":
            raise SecurityError(f"{action} refused: BootNotification not accepted yet")

    def redact(self, frame: Frame | None, text: str) -> str:
        """Hide secrets (the AuthorizationKey password) from the message log."""
        if (
            isinstance(frame, Call)
            and frame.action == "ChangeConfiguration"
            and frame.payload.get("key") == "AuthorizationKey"
        ):
            return text.replace(str(frame.payload.get("value")), REDACTED)
        return text

    def transaction_id(self, frame: Call | CallResult, known: Mapping[str, int]) -> int | None:
        value = frame.payload.get("transactionId")
        return value if type(value) is int else None

    async def record(
        self, services: Services, charger_id: str, action: str, request: Payload, result: Payload
    ) -> None:
        await operations.record(services, charger_id, action, request, result)

    async def request(
        self, services: Services, charger_id: str, name: str, fields: Payload
    ) -> tuple[str, Payload]:
        return request_for(name, fields)


ADAPTER = Ocpp16()

__all__ = ["ADAPTER", "DIALECT", "REDACTED", "Ocpp16"]
