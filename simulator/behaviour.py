"""The seam between the station, which is the same for every OCPP version, and one version's
charge point logic (`simulator/v16/` for 1.6): `Behaviour` is what a version gives its
station, `Services` what a version may use of it. A new version adds a package that
implements `Behaviour` and an entry in `simulator.factory`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from ocppj import Dialect

from .clock import Random, StationClock
from .connection import Route, Security, Target
from .dispatch import Handler
from .meter import EV, Meter
from .outbox import Queued
from .spec import ChargePointSpec

__all__ = ["Behaviour", "ConnectorView", "Services", "Settings", "TransactionView"]

Payload = dict[str, Any]


class TransactionView(Protocol):
    """A transaction as the station's users see it: 1.6's id is the CSMS's number (None
    until it answered), 2.0.1's the station's own string."""

    @property
    def transaction_id(self) -> int | str | None: ...

    @property
    def id_tag(self) -> str: ...


class ConnectorView(Protocol):
    """A connector as the station's users see it, by its number on the station (the key of
    `connectors`, what `plug_in(n)` and the other driver actions take). In 1.6 that is its
    connectorId and its own EVSE; in 2.0.1 the connectors of all EVSEs are numbered in
    order from 1 (EVSE 1's first), `evse_id` and `connector_id` (within the EVSE) name it
    on the wire."""

    @property
    def evse_id(self) -> int: ...

    @property
    def connector_id(self) -> int: ...

    @property
    def status(self) -> str: ...

    @property
    def plugged(self) -> bool: ...

    @property
    def transaction(self) -> TransactionView | None: ...

    @property
    def meter(self) -> Meter: ...


class Settings(Protocol):
    """The charge point's configuration, as its users set and read it."""

    def get(self, name: str) -> str: ...

    def set(self, name: str, value: str | int | bool) -> None: ...


class Services(Protocol):
    """What a version's logic may use of its station."""

    identity: str
    spec: ChargePointSpec
    clock: StationClock
    rng: Random
    ready: asyncio.Event
    password: str | None
    registration: str | None  # the last BootNotification status; None before one this link

    @property
    def online(self) -> bool:
        """Connected with the boot accepted."""
        ...

    async def call(
        self, action: str, payload: Payload, timeout: float | None = None
    ) -> Payload: ...

    async def notify(self, action: str, payload: Payload) -> None:
        """A CALL whose failure (offline, refused, no answer) is only logged."""
        ...

    def now(self) -> datetime: ...

    def timestamp(self) -> str: ...

    def spawn(
        self, coroutine: Coroutine[Any, Any, Any], name: str | None = None
    ) -> asyncio.Task[Any]: ...

    def after_reply(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `work` (a coroutine function) once the answer being given is on the wire."""
        ...

    def explain(self, why: str) -> None:
        """Why the CSMS CALL being answered gets the answer it gets."""
        ...

    def enqueue(self, item: Queued) -> None:
        """Into the offline queue of transaction messages."""
        ...

    async def deliver(self, item: Queued) -> None:
        """Queue `item`; when online, wait until it is delivered (or the link drops)."""
        ...

    async def delivered(self, item: Queued) -> None:
        """When online, wait until a queued `item` is delivered (or the link drops)."""
        ...

    def security(self) -> Security: ...

    def target(self, profile: int) -> Target | None: ...

    async def switch_profile(
        self, profile: int, target: Target, undo: Callable[[], None] | None = None
    ) -> None: ...

    async def restart(self, abrupt: bool = False) -> None:
        """A reboot: the link drops (at once when `abrupt`), the next one boots again."""
        ...

    def boot_now(self) -> None:
        """While the boot is not accepted: the next BootNotification at once."""
        ...

    def route(self) -> Route:
        """How it connects now."""
        ...

    def use_routes(self, routes: Sequence[Route], attempts: int) -> None:
        """From the next connection on, connect by `routes` in turn."""
        ...

    def wake(self) -> None:
        """An interval changed: the waits that depend on it start again."""
        ...


class Behaviour(Protocol):
    """What one OCPP version's charge point logic gives the station."""

    @property
    def version(self) -> str: ...

    @property
    def dialect(self) -> Dialect: ...

    @property
    def operations(self) -> frozenset[str]:
        """The CSMS-initiated actions it answers."""
        ...

    def handler(self, action: str) -> Handler: ...

    @property
    def config(self) -> Settings: ...

    @property
    def connectors(self) -> Mapping[int, ConnectorView]: ...

    # -- what the station's link and boot need -----------------------------------------------

    def boot_payload(self) -> Payload: ...

    def booted(self, interval: int) -> None:
        """The boot was accepted with this heartbeat interval (0: none given)."""
        ...

    async def after_boot(self, booted: bool) -> None:
        """Once online: after a boot (`booted`), or after a reconnect."""
        ...

    def heartbeat_s(self) -> float:
        """Seconds between heartbeats (0: none)."""
        ...

    def ping_interval(self) -> float | None: ...

    def message_attempts(self) -> int: ...

    def message_retry_s(self) -> float: ...

    # -- what a person at the charger does ---------------------------------------------------

    def configure(self, values: Mapping[str, Any]) -> None: ...

    def connector(self, connector_id: int) -> ConnectorView: ...

    def status(self, connector_id: int) -> str: ...

    def transaction(self, connector_id: int) -> TransactionView | None: ...

    async def wait_status(self, connector_id: int, status: str, timeout: float) -> None: ...

    async def plug_in(self, connector_id: int, ev: EV | None) -> None: ...

    async def unplug(self, connector_id: int) -> None: ...

    async def present_tag(self, connector_id: int, id_tag: str) -> Mapping[str, Any]: ...

    def cache_tag(self, id_tag: str, status: str, expiry: str | None) -> None:
        """Put `id_tag` in the authorization cache with `status` (until `expiry`)."""
        ...

    async def stop_charging(self, connector_id: int, reason: str, id_tag: str | None) -> None: ...

    async def suspend(self, connector_id: int, side: str) -> None: ...

    async def resume(self, connector_id: int) -> None: ...

    async def fault(self, connector_id: int, error_code: str, info: str | None) -> None: ...

    async def clear_fault(self, connector_id: int) -> None: ...

    async def restart(self, kind: str) -> None:
        """A reboot as after a Reset of `kind` (Soft, Hard)."""
        ...

    async def power_loss(self) -> None:
        """The power is cut, and back."""
        ...
