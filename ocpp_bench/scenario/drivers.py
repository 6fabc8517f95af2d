"""CSMS drivers: how a scenario makes the CSMS under test act.

- `ocpp-bench` (default): our CSMS; embedded in this process, or over its HTTP API by URL.
- `manual`: tells the operator what to do in the CSMS; the step then waits for the resulting
  call at the charge point. Without an operator (no terminal, no --operator-timeout) it cannot
  make the CSMS act, and neither can `none` (a CSMS by URL with no API): cases that need the
  CSMS to act are then "not run".
- `http`: the generic trigger convention for third-party CSMSs (see README): POST
  `{base}/chargers/{id}/ocpp/{Action}` with the payload; the JSON answer is the charger's response.
"""

from __future__ import annotations

import asyncio
import queue
import re
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import trustme

from ocppj.errors import CallErrorReceived, CallTimeout, OcppError, RpcError


class DriverError(Exception):
    """The CSMS could not do what the step asked; `status` is the HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CsmsDriver(Protocol):
    name: str

    def unable(self) -> str | None:
        """Why this driver cannot make the CSMS act (then cases that need it are not run)."""
        ...

    def arrival_timeout(self, timeout: float) -> float:
        """How long a `csms:` step waits at the charge point, once `call()` returned."""
        ...

    async def register_charger(
        self,
        identity: str,
        password: str | None,
        security_profile: int | None = None,
        registration: str | None = None,
    ) -> None: ...

    async def set_registration(self, identity: str, registration: str) -> None:
        """The charger's status in the registry: how the CSMS answers its next boot."""
        ...

    async def register_tag(
        self, id_tag: str, status: str, expiry: str | None, parent: str | None
    ) -> None: ...

    async def call(
        self, charger_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any] | None: ...


class EmbeddedCsms:
    """Our CSMS on its own event-loop thread, as a separate server would be."""

    def __init__(self, **overrides: Any) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="ocpp-bench-")
        self.overrides = overrides
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="csms", daemon=True)
        self.app: Any = None

    def start(self) -> dict[int, str]:
        """Start; the OCPP URLs by security profile (1: ws, 2: TLS, 3: mutual TLS). A throw-away
        CA issues the CSMS's TLS certificate and signs the chargers' certificates."""
        from csms import CsmsApp, CsmsConfig

        folder = Path(self._folder.name)
        self.ca = trustme.CA()
        self.ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
            str(folder / "csms.pem")
        )
        self.ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        self.ca.private_key_pem.write_to_path(str(folder / "ca.key"))
        self.ca_file = str(folder / "ca.pem")
        settings: dict[str, Any] = {
            "db_path": folder / "csms.db",
            "host": "127.0.0.1",
            "ocpp_port": 0,
            "api_port": None,
            "auto_register": True,
            "heartbeat_interval": 60,
            "boot_retry_interval": 3,  # Pending: time for steps before the next boot
            "tls_port": 0,
            "mtls_port": 0,
            "tls_cert": folder / "csms.pem",
            "tls_client_ca": folder / "ca.pem",
            # the same CA signs the chargers' CSRs: a renewed certificate works on profile 3
            "cp_ca_cert": folder / "ca.pem",
            "cp_ca_key": folder / "ca.key",
            **self.overrides,
        }
        self._thread.start()
        self.app = CsmsApp(CsmsConfig(**settings))
        self.submit(self.app.start())
        return {profile: self.app.url_for_profile(profile) for profile in (1, 2, 3)}

    def client_cert(self, identity: str, context: ssl.SSLContext) -> None:
        """Give a profile-3 charge point a certificate for its identity, from our CA."""
        name = re.sub(r"[^a-z0-9-]", "-", identity.lower())[:60] or "charger"
        self.ca.issue_cert(f"{name}.chargers.invalid", common_name=identity).configure_cert(context)

    def submit(self, work: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    async def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        return await asyncio.wrap_future(future)

    def stop(self) -> None:
        if self.app is not None:
            self.submit(self.app.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._folder.cleanup()


class EmbeddedDriver:
    name = "ocpp-bench"

    def __init__(self, csms: EmbeddedCsms) -> None:
        self.csms = csms

    def unable(self) -> str | None:
        return None

    def arrival_timeout(self, timeout: float) -> float:
        return min(timeout, 2.0)  # answered: the CALL has arrived already

    async def register_charger(
        self,
        identity: str,
        password: str | None,
        security_profile: int | None = None,
        registration: str | None = None,
    ) -> None:
        chargers = self.csms.app.services.chargers
        await self.csms.run(
            chargers.register(
                identity,
                password=password,
                security_profile=security_profile,
                registration=registration or "Accepted",
            )
        )

    async def set_registration(self, identity: str, registration: str) -> None:
        chargers = self.csms.app.services.chargers
        if not await self.csms.run(chargers.update(identity, registration=registration)):
            raise DriverError(f"charger {identity} is not registered")

    async def register_tag(
        self, id_tag: str, status: str, expiry: str | None, parent: str | None
    ) -> None:
        tags = self.csms.app.services.tags
        await self.csms.run(
            tags.upsert(id_tag, status=status, expiry_date=expiry, parent_id_tag=parent)
        )

    async def call(
        self, charger_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = await self.csms.run(
                self.csms.app.operations.send(charger_id, action, payload, timeout)
            )
        except CallErrorReceived as exc:
            raise DriverError(
                f"the charger answered CALLERROR {exc.code}: {exc.description}"
            ) from exc
        except CallTimeout as exc:
            raise DriverError(f"no answer from the charger within {timeout:g} s") from exc
        except (OcppError, RpcError, LookupError) as exc:
            raise DriverError(str(exc)) from exc
        return result


class Operator:
    """The person at the CSMS: instructions go to the terminal (past pytest's capture), and
    "done" comes back as Enter."""

    def __init__(self, say: Callable[[str], None], interactive: bool) -> None:
        self.say = say
        self.interactive = interactive
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader: threading.Thread | None = None

    async def confirm(self, text: str, timeout: float) -> bool:
        """Show `text`; True once the operator pressed Enter (at once when not interactive)."""
        if not self.interactive:
            self.say(text)
            return True
        self.say(f"{text}; press Enter when done")
        if self._reader is None:
            self._reader = threading.Thread(target=self._read, name="operator", daemon=True)
            self._reader.start()
        try:
            await asyncio.to_thread(self._lines.get, True, timeout)
        except queue.Empty:
            return False
        return True

    def _read(self) -> None:
        for line in sys.__stdin__ or ():
            self._lines.put(line)


class ManualDriver:
    """For a CSMS with no API: an operator does what a step asks in the CSMS, and the charge
    point checks what arrives. `timeout`: how long an operator may take (None: no operator
    unless the run is interactive)."""

    name = "manual"

    def __init__(self, operator: Operator | None = None, timeout: float | None = None) -> None:
        self.operator = operator or Operator(print, interactive=False)
        self.timeout = timeout if timeout is not None else 120.0
        self.attended = self.operator.interactive or timeout is not None

    def unable(self) -> str | None:
        if self.attended:
            return None
        return (
            "the manual driver has no operator in a non-interactive run "
            "(run in a terminal, or give --operator-timeout)"
        )

    def arrival_timeout(self, timeout: float) -> float:
        return self.timeout

    async def _ask(self, text: str) -> None:
        if not await self.operator.confirm(f"[operator] {text}", self.timeout):
            raise DriverError(f"the operator did not confirm within {self.timeout:g} s: {text}")

    async def register_charger(
        self,
        identity: str,
        password: str | None,
        security_profile: int | None = None,
        registration: str | None = None,
    ) -> None:
        secret = f" with password {password!r}" if password else ""
        if security_profile is not None:
            secret += f", security profile {security_profile}"
        if registration not in (None, "Accepted"):
            secret += f", its boot answered {registration}"
        await self._ask(f"make sure charge point {identity} is registered{secret}")

    async def set_registration(self, identity: str, registration: str) -> None:
        await self._ask(f"make the CSMS answer the boots of {identity} with {registration}")

    async def register_tag(
        self, id_tag: str, status: str, expiry: str | None, parent: str | None
    ) -> None:
        extra = f", expiry {expiry}" if expiry else ""
        extra += f", parent {parent}" if parent else ""
        await self._ask(f"make sure id tag {id_tag} exists with status {status}{extra}")

    async def call(
        self, charger_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any] | None:
        self.operator.say(
            f"[operator] in the CSMS, send {action} to {charger_id} with {payload} "
            f"(waiting up to {self.timeout:g} s for it to arrive)"
        )
        return None  # the step waits for the CALL at the charge point


class NoDriver:
    """A CSMS by URL with no API to make it act: chargers and tags are not registered, and a
    case that needs the CSMS to act is not run."""

    name = "none"

    def unable(self) -> str | None:
        return "no driver can make this CSMS act (give --csms-api, or --csms-driver manual)"

    def arrival_timeout(self, timeout: float) -> float:
        return 0.0

    async def register_charger(
        self,
        identity: str,
        password: str | None,
        security_profile: int | None = None,
        registration: str | None = None,
    ) -> None:
        return None  # the CSMS must accept it as it is

    async def set_registration(self, identity: str, registration: str) -> None:
        raise DriverError(f"cannot make the CSMS answer {registration}: {self.unable()}")

    async def register_tag(
        self, id_tag: str, status: str, expiry: str | None, parent: str | None
    ) -> None:
        raise DriverError(f"cannot register id tag {id_tag}: {self.unable()}")

    async def call(
        self, charger_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any] | None:
        raise DriverError(f"cannot make the CSMS send {action}: {self.unable()}")


class HttpDriver:
    """Our HTTP API, or any CSMS that follows the same trigger convention."""

    def __init__(self, base_url: str, token: str | None = None, name: str = "http") -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.name = name

    def unable(self) -> str | None:
        return None

    def arrival_timeout(self, timeout: float) -> float:
        return timeout  # an API may answer before the CALL is on its way

    async def _post(self, path: str, body: dict[str, Any], timeout: float) -> Any:
        return await self._send("POST", path, body, timeout)

    async def _send(self, method: str, path: str, body: dict[str, Any], timeout: float) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with httpx.AsyncClient(timeout=timeout + 5) as client:
            response = await client.request(
                method, f"{self.base_url}{path}", json=body, headers=headers
            )
        if response.status_code >= 400:
            raise DriverError(
                f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}",
                response.status_code,
            )
        return response.json() if response.content else None

    async def register_charger(
        self,
        identity: str,
        password: str | None,
        security_profile: int | None = None,
        registration: str | None = None,
    ) -> None:
        body: dict[str, Any] = {"chargerId": identity}
        if password:
            body["password"] = password
        if security_profile is not None:
            body["securityProfile"] = security_profile
        if registration is not None:
            body["registration"] = registration
        try:
            await self._post("/api/chargers", body, 10)
        except DriverError as exc:
            if exc.status != 409:  # 409: registered already, which is what we want
                raise
            if registration is not None:  # a fixed identity from an earlier run
                await self.set_registration(identity, registration)

    async def set_registration(self, identity: str, registration: str) -> None:
        path = f"/api/chargers/{quote(identity, safe='')}"
        await self._send("PATCH", path, {"registration": registration}, 10)

    async def register_tag(
        self, id_tag: str, status: str, expiry: str | None, parent: str | None
    ) -> None:
        body = {"idTag": id_tag, "status": status, "expiryDate": expiry, "parentIdTag": parent}
        given = {k: v for k, v in body.items() if v is not None}
        try:
            await self._post("/api/id-tags", given, 10)
        except DriverError as exc:
            if exc.status != 409:
                raise
            # it exists (a tag set up for the run, --id-tags): give it this case's settings
            del given["idTag"]
            await self._send("PUT", f"/api/id-tags/{quote(id_tag, safe='')}", given, 10)

    async def call(
        self, charger_id: str, action: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any] | None:
        result: dict[str, Any] | None = await self._post(
            f"/api/chargers/{charger_id}/ocpp/{action}?timeout={timeout:g}", payload, timeout
        )
        return result


__all__ = [
    "CsmsDriver",
    "DriverError",
    "EmbeddedCsms",
    "EmbeddedDriver",
    "HttpDriver",
    "ManualDriver",
    "NoDriver",
    "Operator",
]
