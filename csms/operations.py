"""CSMS-initiated operations: send one to a charger and keep the CSMS's state in step.

`Operations.send()` is what the HTTP API (and any script) uses to make the CSMS act. It checks
that the action is one the CSMS may initiate in the OCPP version the charger speaks, sends it
(the payload is validated against that version's schema before anything leaves) and, once the
charger answered, has the version's adapter record what changed (for 1.6:
`csms/ocpp16/operations.py`).

Errors, for the caller to map: `UnknownCharger`, `UnknownAction`, `ChargerNotConnected`, and
from the RPC layer `OcppError` (our payload breaks the schema), `CallErrorReceived`,
`InvalidResponse`, `CallTimeout`, `ConnectionLost`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ocppj import CallTimeout

from .adapter import Adapter
from .connections import ConnectionRegistry
from .services import Services
from .versions import ADAPTERS, DEFAULT

log = logging.getLogger(__name__)

Payload = dict[str, Any]
Caller = Callable[[str, str, Payload, float | None], Awaitable[Payload]]
Locator = Callable[[str], Awaitable[str | None]]  # charger -> subprotocol on another node


class ChargerNotConnected(LookupError):
    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        super().__init__(f"Charger {charger_id} is not connected")


class UnknownCharger(LookupError):
    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        super().__init__(f"Unknown charger {charger_id}")


class UnknownAction(LookupError):
    """Not an action the CSMS may send; `known` tells whether the OCPP version (`version`,
    "1.6") defines it at all."""

    def __init__(self, action: str, known: bool, version: str) -> None:
        self.action = action
        self.known = known
        reason = (
            f"{action} is initiated by the charge point, not the CSMS"
            if known
            else f"{action} is not an OCPP {version} action"
        )
        super().__init__(reason)


class Operations:
    """Send CSMS-initiated calls through `call` and record their outcome through the services;
    `registry` tells which version each charger connected here speaks, `locate` (a cluster's)
    which version a charger speaks on another node."""

    def __init__(
        self,
        services: Services,
        call: Caller,
        registry: ConnectionRegistry,
        locate: Locator | None = None,
    ) -> None:
        self.services = services
        self._call = call
        self._registry = registry
        self._locate = locate

    async def version(self, charger_id: str) -> Adapter:
        """The adapter of the OCPP version the charger speaks; while it is not connected, the
        CSMS's default (`csms.versions.DEFAULT`)."""
        connection = self._registry.get(charger_id)
        if connection is not None:
            return connection.adapter
        subprotocol = None if self._locate is None else await self._locate(charger_id)
        return ADAPTERS.get(subprotocol or "", DEFAULT)

    @staticmethod
    def check_action(action: str, version: Adapter = DEFAULT) -> None:
        if action not in version.csms_actions:
            raise UnknownAction(action, action in version.dialect.actions, version.dialect.version)

    async def send(
        self, charger_id: str, action: str, payload: Payload, timeout: float | None = None
    ) -> Payload:
        version = await self.version(charger_id)
        self.check_action(action, version)
        if await self.services.chargers.get(charger_id) is None:
            raise UnknownCharger(charger_id)
        limit = self.services.config.call_timeout if timeout is None else timeout
        try:
            # The deadline covers the wait behind another CALL to the same charger (OCPP-J
            # allows one at a time), not only the wait for this CALL's answer.
            async with asyncio.timeout(limit):
                result = await self._call(charger_id, action, payload, limit)
        except CallTimeout:
            raise
        except TimeoutError as exc:
            raise CallTimeout(action, limit) from exc
        await self.record(charger_id, action, payload, result)
        return result

    async def perform(
        self, charger_id: str, name: str, fields: Payload, timeout: float | None = None
    ) -> Payload:
        """Friendly operation `name` (remote-start, reset, ...; see `Adapter.request`) with
        the API's `fields`, as the request of the version the charger speaks."""
        version = await self.version(charger_id)
        action, payload = await version.request(self.services, charger_id, name, fields)
        return await self.send(charger_id, action, payload, timeout)

    async def record(self, charger_id: str, action: str, request: Payload, result: Payload) -> None:
        """Bring the CSMS's state in line with a request the charger answered with `result`
        (what that changes is the business of the charger's version)."""
        version = await self.version(charger_id)
        await version.record(self.services, charger_id, action, request, result)
