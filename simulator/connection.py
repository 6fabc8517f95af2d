"""Opening the WebSocket to the CSMS: URL, security profiles 0-3, back-off between attempts."""

from __future__ import annotations

import asyncio
import base64
import ssl
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidMessage, InvalidStatus, InvalidURI

from .clock import SYSTEM_RANDOM, Random


@dataclass(frozen=True, slots=True)
class Security:
    """Security profile and credentials of one charge point.

    profile 0: plain ws, no auth; 1: Basic Auth; 2: TLS (server verified against `ssl`'s CAs)
    plus Basic Auth; 3: mutual TLS (the client certificate is in the shared `ssl` context).
    """

    profile: int = 0
    password: str | None = None
    username: str | None = None  # Basic Auth user; None: the identity (as it must be)


@dataclass(frozen=True, slots=True)
class Route:
    """One way to the CSMS that a link tries in turn with others (2.0.1's network connection
    profiles, B10): URL, security profile, TLS context, and the configuration slot."""

    url: str
    profile: int
    ssl_context: ssl.SSLContext | None = None
    slot: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """Where a charge point connects for one security profile: the CSMS URL, and the TLS
    context (trusted CAs, client certificate for profile 3; None for ws://)."""

    url: str
    ssl_context: ssl.SSLContext | None = None


# profile -> where to connect with it, or None when the charge point cannot use that profile
TargetLookup = Callable[[int], Target | None]


def tls_context(
    ca_file: str | Path | None = None,
    cert_file: str | Path | None = None,
    key_file: str | Path | None = None,
    ca_data: str | None = None,
) -> ssl.SSLContext:
    """One client TLS context, shared by every charge point of a fleet."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None or ca_data is not None:
        context.load_verify_locations(cafile=ca_file, cadata=ca_data)
    if cert_file is not None:
        context.load_cert_chain(cert_file, key_file)
    return context


_TLS_VERSIONS = {"1.0": "TLSv1", "1.1": "TLSv1_1", "1.2": "TLSv1_2", "1.3": "TLSv1_3"}


def capped_tls(context: ssl.SSLContext | None, highest: str) -> ssl.SSLContext:
    """A client context trusting the CAs `context` trusts (the system's for None) that offers
    TLS up to `highest` ("1.0" to "1.3") only: to check that a CSMS refuses old versions. No
    client certificate (it cannot be copied from `context`)."""
    if highest not in _TLS_VERSIONS:
        raise ValueError(f"TLS version {highest!r}: one of {', '.join(_TLS_VERSIONS)}")
    capped = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if context is None:
        capped.load_default_certs()
    else:
        for der in context.get_ca_certs(binary_form=True):
            capped.load_verify_locations(cadata=der)
    with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        version = getattr(ssl.TLSVersion, _TLS_VERSIONS[highest])
        capped.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        capped.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        capped.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses them at level 1
    return capped


ID_FIELD = "{id}"  # where a URL template puts the identity


def endpoint(url: str, identity: str) -> str:
    """Where `identity` connects: a template's `{id}` replaced by the identity, as in
    `ws://host/ws/ocpp/{id}/`; any other URL gets the identity as its last path segment
    (`ws://host/ocpp` -> `ws://host/ocpp/CP-1`). The identity is URL-quoted either way."""
    quoted = quote(identity, safe="")
    if ID_FIELD in url:
        return url.replace(ID_FIELD, quoted)
    return f"{url.rstrip('/')}/{quoted}"


def basic_auth(identity: str, password: str) -> str:
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    return f"Basic {token}"


@dataclass(frozen=True, slots=True)
class Limits:
    """WebSocket knobs that decide the memory of an idle connection."""

    max_queue: int = 4
    write_limit: int = 4096
    max_size: int = 2**20
    open_timeout: float = 10.0
    close_timeout: float = 2.0


async def open_connection(
    url: str,
    identity: str,
    *,
    security: Security,
    ssl_context: ssl.SSLContext | None,
    ping_interval: float | None,
    limits: Limits,
    subprotocols: Sequence[str],
) -> ClientConnection:
    """Connect offering `subprotocols` (none: no header), no compression, and the profile's
    credentials."""
    target = endpoint(url, identity)
    headers: dict[str, str] = {}
    if security.password and security.profile != 3:
        headers["Authorization"] = basic_auth(security.username or identity, security.password)
    use_tls = target.startswith("wss://")
    return await connect(
        target,
        subprotocols=list(subprotocols) or None,  # type: ignore[arg-type]
        compression=None,
        additional_headers=headers,
        ssl=(ssl_context or tls_context()) if use_tls else None,
        ping_interval=ping_interval,
        ping_timeout=ping_interval,
        max_queue=limits.max_queue,
        write_limit=limits.write_limit,
        max_size=limits.max_size,
        open_timeout=limits.open_timeout,
        close_timeout=limits.close_timeout,
        proxy=None,
        user_agent_header=None,
    )


def describe_failure(exc: BaseException) -> str:
    """Why a connection attempt failed, for a person: `HTTP 404: Unknown charge point` (the
    CSMS's status and the first line of its answer), `ConnectionRefusedError: ...`."""
    if isinstance(exc, InvalidStatus | InvalidMessage):
        return failure_kind(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def failure_kind(exc: BaseException) -> str:
    """Why a connection attempt failed, in a few words fit to count failures by: the HTTP
    status and the CSMS's reason for a refused handshake, what came instead of an HTTP answer,
    else the exception's type."""
    if isinstance(exc, InvalidMessage):  # websockets' "did not receive a valid HTTP response"
        cause = exc.__cause__
        if cause is None or isinstance(cause, EOFError):
            return "no HTTP answer: the connection closed during the handshake"
        return f"no valid HTTP answer to the handshake ({cause})"[:120]
    if not isinstance(exc, InvalidStatus):
        return type(exc).__name__
    response = exc.response
    body = response.body.decode("utf-8", "replace").strip() if response.body else ""
    first = body.splitlines()[0].strip() if body else ""
    if not first or first.startswith("<"):  # no text, or an HTML page: the reason phrase
        first = response.reason_phrase
    return f"HTTP {response.status_code}: {first[:80]}"


@dataclass(frozen=True, slots=True)
class Handshake:
    """How the CSMS met one connection attempt (`probe`)."""

    status: int | None  # HTTP status: 101 when upgraded; None without an HTTP answer
    subprotocol: str | None = None  # the one the CSMS selected
    closed: int | None = None  # close code, when the CSMS closed the upgraded socket at once
    error: str | None = None  # why there was no HTTP answer (TLS, network)

    @property
    def accepted(self) -> bool:
        """Upgraded with a subprotocol, and left open: the charge point may talk OCPP."""
        return self.status == 101 and self.subprotocol is not None and self.closed is None


async def probe(
    url: str,
    identity: str,
    *,
    security: Security,
    ssl_context: ssl.SSLContext | None,
    subprotocols: Sequence[str],
    wait_close: float,
    limits: Limits = Limits(),
) -> Handshake:
    """One connection attempt as `identity`, closed again at once. When no subprotocol was
    agreed, the CSMS must close the socket itself (OCPP-J 1.6 section 3.1.2): that is awaited
    for up to `wait_close` seconds."""
    try:
        ws = await open_connection(
            url,
            identity,
            security=security,
            ssl_context=ssl_context,
            ping_interval=None,
            limits=limits,
            subprotocols=subprotocols,
        )
    except InvalidStatus as exc:
        return Handshake(exc.response.status_code)
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        return Handshake(None, error=f"{type(exc).__name__}: {exc}")
    closed = None
    try:
        if ws.subprotocol is None:
            try:
                await asyncio.wait_for(ws.wait_closed(), wait_close)
                closed = ws.close_code
            except TimeoutError:
                pass
    finally:
        await ws.close()
    return Handshake(101, ws.subprotocol, closed)


@dataclass(slots=True)
class Backoff:
    """Exponential back-off with random jitter between reconnect attempts:
    delay(n) = min(initial * factor**n, maximum) + uniform(0, jitter)."""

    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0
    jitter: float = 1.0
    rng: Random = SYSTEM_RANDOM

    def delay(self, attempt: int) -> float:
        base = min(self.initial * self.factor**attempt, self.maximum)
        return base + (self.rng.uniform(0.0, self.jitter) if self.jitter > 0 else 0.0)
