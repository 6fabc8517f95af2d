"""The charger registry: admission, boot decisions, status reports and notifications."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

import orjson

from ..config import CsmsConfig
from ..domain import Boot, StatusChange
from ..store import ChargerStore, Row
from .passwords import hash_password, verify_password
from .validation import ocpp_version as checked_version

log = logging.getLogger(__name__)

REGISTRATION_STATES = ("Accepted", "Pending", "Rejected")
# What an auto-registered charger is in the registry: enabled, profile 1, no password.
_AUTO_REGISTERED: Row = {
    "enabled": 1,
    "security_profile": None,
    "password_hash": None,
    "boot_accepted": 0,
    "registration": "Accepted",
    "ocpp_version": None,
}


@dataclass(frozen=True, slots=True)
class Admission:
    """The verdict on a connection attempt: HTTP status 101-to-be (0) or a refusal."""

    refusal: int = 0  # 0: admitted; else the HTTP status to answer with
    reason: str = ""
    boot_accepted: bool = False
    register: bool = False  # unknown and auto-registration on: register() once connected
    upgrade: int = 0  # admitted with a security profile offered to it: upgraded() once connected
    ocpp_version: str | None = None  # the version it is registered for; None: any


@dataclass(frozen=True, slots=True)
class BootDecision:
    status: str  # Accepted | Pending | Rejected
    interval: int


class ChargerService:
    def __init__(self, store: ChargerStore, config: CsmsConfig) -> None:
        self.store = store
        self.config = config
        self._verified: dict[str, tuple[str, bytes]] = {}  # id -> (stored hash, sha256(pw))

    async def register(
        self,
        charger_id: str,
        *,
        password: str | None = None,
        name: str | None = None,
        model: str | None = None,
        vendor: str | None = None,
        enabled: bool = True,
        registration: str = "Accepted",
        security_profile: int | None = None,
        ocpp_version: str | None = None,
    ) -> bool:
        """Add a charger to the registry. False when it exists already. `ocpp_version`: the
        one it must speak ("1.6", "2.0.1"); None or "any": whichever it offers."""
        if registration not in REGISTRATION_STATES:
            raise ValueError(f"registration must be one of {REGISTRATION_STATES}")
        if security_profile not in (None, 0, 1, 2, 3):
            raise ValueError("security_profile must be 0, 1, 2 or 3")
        return await self.store.insert(
            charger_id,
            name=name,
            model=model,
            vendor=vendor,
            enabled=int(enabled),
            registration=registration,
            password_hash=hash_password(password) if password else None,
            security_profile=security_profile,
            ocpp_version=checked_version(ocpp_version),
        )

    async def auto_register(self, charger_id: str) -> None:
        """Register a charger admitted with `Admission.register`, once its connection is open
        (a no-op if it was registered meanwhile)."""
        if await self.store.insert(charger_id, name=charger_id):
            log.info("auto-registered charger %s", charger_id)

    async def set_password(self, charger_id: str, password: str | None) -> bool:
        self._verified.pop(charger_id, None)
        stored = hash_password(password) if password else None
        return await self.store.update(charger_id, password_hash=stored)

    async def admit(
        self,
        charger_id: str,
        password: str | None,
        listener: Collection[int] = (1,),
        certificate_name: str | None = None,
    ) -> Admission:
        """Decide whether `charger_id` may connect on a listener of the security profiles
        `listener` (1: ws; 2: TLS; 3: mutual TLS; (2, 3): TLS with an optional client
        certificate), with the Basic Auth password it gave and the common name of its
        verified client certificate, if any. The charger's own profile decides what it must
        show: a certificate for profile 3, its password otherwise."""
        row = await self.store.get(charger_id)
        if row is None:
            if not self.config.auto_register:
                return Admission(404, "Unknown charge point")
            # judged as the charger it would be once registered; registered by the server only
            # when the connection is open, so a refused handshake registers nobody
            admission = self._judge(
                _AUTO_REGISTERED, charger_id, password, listener, certificate_name
            )
            if admission.refusal:
                return admission
            return Admission(0, "", boot_accepted=False, register=True)
        offered = await self._offered_in(charger_id, row, listener)
        if offered:
            admission = self._judge(
                {**row, "security_profile": offered}, charger_id, password, listener,
                certificate_name,
            )  # fmt: skip
            return admission if admission.refusal else replace(admission, upgrade=offered)
        return self._judge(row, charger_id, password, listener, certificate_name)

    async def _offered_in(self, charger_id: str, row: Row, listener: Collection[int]) -> int:
        """The highest security profile offered to the charger (`offer_profile`) that is above
        its own and one of the listener's; 0 if none."""
        profile = row["security_profile"] or 1
        if profile in listener or max(listener) <= profile:
            return 0
        offers = await self.store.events(charger_id, "SecurityProfileOffered")
        offered = {int(e["detail"]) for e in offers if str(e["detail"]).isdigit()}
        return max((p for p in offered if p > profile and p in listener), default=0)

    async def offer_profile(self, charger_id: str, profile: int) -> None:
        """The charger accepted a way to connect with security `profile` (2.0.1's
        SetNetworkProfile): from now on it is admitted with that profile too, and once it
        connects so, with that profile only (A05: no way back)."""
        row = await self.store.get(charger_id)
        if row is not None and profile > (row["security_profile"] or 1):
            await self.add_event(charger_id, "SecurityProfileOffered", str(profile))

    async def upgraded(self, charger_id: str, profile: int) -> None:
        """The charger connected with a security profile offered to it: it is its own now."""
        await self.store.update(charger_id, security_profile=profile)
        await self.add_event(charger_id, "SecurityProfileUpgraded", str(profile))
        log.info(
            "%s connected with security profile %d: its profile from now on", charger_id, profile
        )

    def _judge(
        self,
        row: Row,
        charger_id: str,
        password: str | None,
        listener: Collection[int],
        certificate_name: str | None,
    ) -> Admission:
        if not row["enabled"]:
            return Admission(403, "Charge point is disabled")
        profile = row["security_profile"] or 1
        if max(profile, 1) not in listener:
            return Admission(403, f"Charge point must connect with security profile {profile}")
        if profile == 3:
            if certificate_name is None:
                return Admission(403, "Client certificate required (security profile 3)")
            if certificate_name != charger_id:
                return Admission(403, "Client certificate is not this charge point's")
            return self._admitted(row)
        stored = row["password_hash"]
        if stored:
            if password is None:
                return Admission(401, "Credentials required")
            if not self._password_ok(charger_id, password, stored):
                return Admission(401, "Invalid credentials")
        return self._admitted(row)

    def _admitted(self, row: Row) -> Admission:
        return Admission(
            0, "", boot_accepted=self.boot_accepted(row), ocpp_version=row.get("ocpp_version")
        )

    def _password_ok(self, charger_id: str, password: str, stored: str) -> bool:
        fingerprint = hashlib.sha256(password.encode()).digest()
        cached = self._verified.get(charger_id)
        if cached is not None and cached[0] == stored:
            return cached[1] == fingerprint
        if not verify_password(password, stored):
            return False
        self._verified[charger_id] = (stored, fingerprint)
        return True

    @staticmethod
    def boot_accepted(row: Row) -> bool:
        return bool(row["boot_accepted"]) and row["registration"] == "Accepted"

    async def boot(self, charger_id: str, boot: Boot) -> BootDecision:
        row = await self.store.get(charger_id)
        status = row["registration"] if row else "Rejected"
        accepted = status == "Accepted"
        await self.store.record_boot(charger_id, boot, accepted)
        interval = self.config.heartbeat_interval if accepted else self.config.boot_retry_interval
        return BootDecision(status, interval)

    async def status_notification(self, charger_id: str, change: StatusChange) -> None:
        await self.store.upsert_connector(
            charger_id,
            change.connector_id,
            change.evse_id,
            status=change.status,
            error_code=change.error_code,
            info=change.info,
            vendor_id=change.vendor_id,
            vendor_error_code=change.vendor_error_code,
            status_timestamp=change.timestamp,
        )

    async def notification(
        self, charger_id: str, kind: str, payload: dict[str, Any], detail: str | None = None
    ) -> None:
        """Record a notification (firmware, diagnostics, security event, ...) as an event."""
        await self.add_event(charger_id, kind, detail, payload)

    async def firmware_status(self, charger_id: str, status: str) -> None:
        """Where the charger's firmware update is, as it last reported."""
        await self.store.update(charger_id, firmware_status=status)

    async def diagnostics_status(self, charger_id: str, status: str) -> None:
        """Where the charger's diagnostics upload is, as it last reported."""
        await self.store.update(charger_id, diagnostics_status=status)

    def knows_vendor(self, vendor_id: str) -> bool:
        return vendor_id in self.config.vendor_ids

    async def connected(self, charger_id: str) -> None:
        await self.store.set_online(charger_id, True)

    async def disconnected(self, charger_id: str) -> None:
        await self.store.set_online(charger_id, False)

    async def all_offline(self) -> None:
        """At start-up no charger is connected, whatever a crash left behind."""
        await self.store.all_offline()

    async def seen(self, last_seen: list[tuple[str, str]]) -> None:
        """Record when chargers last spoke: (ISO time, charger id) pairs."""
        await self.store.touch(last_seen)

    # -- the registry and what the CSMS knows of each charger ------------------------------

    async def get(self, charger_id: str) -> Row | None:
        return await self.store.get(charger_id)

    async def find(
        self, *, online: bool | None = None, limit: int = 100, offset: int = 0
    ) -> list[Row]:
        return await self.store.find(online=online, limit=limit, offset=offset)

    async def count(self, *, online: bool | None = None) -> int:
        return await self.store.count(online=online)

    async def update(self, charger_id: str, **fields: Any) -> bool:
        """Change registry fields (store names); False when the charger is unknown."""
        return await self.store.update(charger_id, **fields)

    async def delete(self, charger_id: str) -> bool:
        return await self.store.delete(charger_id)

    async def connectors(self, charger_id: str) -> list[Row]:
        return await self.store.connectors(charger_id)

    async def connectors_of(self, charger_ids: list[str]) -> dict[str, list[Row]]:
        return await self.store.connectors_of(charger_ids)

    async def configuration(self, charger_id: str) -> list[Row]:
        return await self.store.configuration(charger_id)

    async def set_configuration(
        self, charger_id: str, items: list[tuple[str, str | None, bool]]
    ) -> None:
        """Keep configuration keys as (key, value, read-only) the charger set or reported."""
        await self.store.set_configuration(charger_id, items)

    async def events(
        self, charger_id: str, kind: str | None = None, *, last: int | None = None
    ) -> list[Row]:
        """The charger's events (of one kind), oldest first; with `last`, the newest few."""
        return await self.store.events(charger_id, kind, last=last)

    async def add_event(
        self, charger_id: str, kind: str, detail: str | None = None, data: Any = None
    ) -> None:
        """Record a charger event; `data` (JSON-able) is kept as JSON."""
        payload = None if data is None else orjson.dumps(data).decode()
        await self.store.add_event(charger_id, kind, detail, payload)
