"""The OCPP-J WebSocket server: admission at the handshake, then one RPC session a charger.

Admission: identity = last path segment, percent-decoded; unknown → 404 (unless
auto-registration), wrong or missing Basic Auth → 401, disabled → 403. A client that offers no
subprotocol we speak gets the handshake completed without Sec-WebSocket-Protocol and is closed at
once (OCPP-J 1.6 §3.1.2), instead of the `websockets` default HTTP 400; it is not admitted (a
warning is logged, nobody is registered); so is a registered charger that does not offer the
OCPP version it is registered for. Every refusal is counted through `on_refused`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import ssl
import time
import weakref
from collections.abc import Callable, Collection, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_subprotocol
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .connections import Connection, ConnectionRegistry
from .services import Admission, Services
from .services.validation import identity_problem
from .versions import ADAPTERS

if TYPE_CHECKING:
    from .cluster import Cluster

log = logging.getLogger(__name__)

CLOSE_PROTOCOL_ERROR = 1002

# Why a handshake was refused, as counted (see `OcppServer.on_refused`): an HTTP status's
# name, or "subprotocol" for a client we closed with 1002 as it offered none we speak.
REFUSAL_NAMES = {
    400: "bad_request",
    401: "credentials",
    403: "forbidden",
    404: "unknown_charger",
    429: "throttled",
}
SUBPROTOCOL_REFUSAL = "subprotocol"


class IdentityError(ValueError):
    pass


def identity_from_path(path: str, max_length: int) -> str:
    segments = [s for s in urlsplit(path).path.split("/") if s]
    if not segments:
        raise IdentityError("Missing charge point identity in the URL path")
    identity = unquote(segments[-1], errors="strict")
    problem = identity_problem(identity, max_length)  # the rule registration checks too
    if problem is not None:
        raise IdentityError(f"Charge point identity {problem}")
    return identity


def basic_auth(headers: Headers, identity: str) -> str | None:
    """The password of an `Authorization: Basic` header; None when there is none.

    A header for another username counts as no valid credentials (raises ValueError)."""
    value = headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic":
        raise ValueError("Only Basic authorization is supported")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("Malformed Basic credentials") from exc
    username, sep, password = decoded.partition(":")
    if not sep or username != identity:
        raise ValueError("Username must be the charge point identity")
    return password


def offered_subprotocols(headers: Headers) -> list[str]:
    """The subprotocols a client offers, in its order (InvalidHeader when malformed)."""
    offered: list[str] = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        offered.extend(parse_subprotocol(value))
    return offered


def choose_subprotocol(offered: Sequence[str], version: str | None) -> Subprotocol | None:
    """The newest subprotocol offered, whatever its order (ADAPTERS: newest first), of
    `version` when the charger is registered for one; None if none."""
    for name, adapter in ADAPTERS.items():
        if name in offered and version in (None, adapter.dialect.version):
            return Subprotocol(name)
    return None


def refuse(connection: ServerConnection, status: int, reason: str) -> Response:
    response = connection.respond(HTTPStatus(status), reason + "\n")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="ocpp-bench", charset="UTF-8"'
    return response


class LoginThrottle:
    """Per-identity back-off after failed Basic Auth: free tries, then 1, 2, 4 ... 60 s."""

    FREE_TRIES = 3
    MAX_DELAY = 60.0

    def __init__(self) -> None:
        self._failures: dict[str, tuple[int, float]] = {}  # identity -> (count, blocked until)

    def blocked_for(self, identity: str) -> float:
        _, until = self._failures.get(identity, (0, 0.0))
        return max(0.0, until - time.monotonic())

    def failed(self, identity: str) -> None:
        count = self._failures.get(identity, (0, 0.0))[0] + 1
        delay = 0.0 if count < self.FREE_TRIES else min(2.0 ** (count - self.FREE_TRIES), 60.0)
        self._failures[identity] = (count, time.monotonic() + delay)

    def succeeded(self, identity: str) -> None:
        self._failures.pop(identity, None)


def certificate_name(connection: ServerConnection) -> str | None:
    """The common name of the client certificate the TLS handshake verified, if any."""
    certificate = connection.transport.get_extra_info("peercert")
    if not certificate:
        return None
    for rdn in certificate.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


class OcppServer:
    """One listener. `profiles` are the OCPP security profiles it serves: (1,) plain ws (Basic
    Auth or none), (2,) TLS with Basic Auth, (3,) mutual TLS, (2, 3) TLS with an optional
    client certificate; a charger is admitted only on a listener of its own profile."""

    def __init__(
        self,
        services: Services,
        registry: ConnectionRegistry,
        throttle: LoginThrottle | None = None,
        *,
        profiles: Collection[int] = (1,),
        ssl_context: ssl.SSLContext | None = None,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self.services = services
        self.config = services.config
        self.registry = registry
        self.throttle = throttle or LoginThrottle()
        self.profiles = tuple(profiles)
        self.ssl_context = ssl_context
        self.on_refused = on_refused  # told why each refused handshake was (e.g. metrics)
        self.cluster: Cluster | None = None  # the node's cluster, when several share the db
        self._server: Server | None = None
        # admitted at the handshake, until served: (identity, admission). Weak keys: a
        # handshake that fails after admission leaves nothing behind (nobody registered).
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, tuple[str, Admission]] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self, host: str, port: int) -> None:
        self._server = await serve(
            self._serve,
            host,
            port,
            process_request=self._admit,
            select_subprotocol=self._select_subprotocol,
            subprotocols=[Subprotocol(name) for name in ADAPTERS],
            compression=None,
            max_size=self.config.max_frame_size,
            ping_interval=self.config.ping_interval,
            ping_timeout=self.config.ping_timeout,
            close_timeout=self.config.close_timeout,
            ssl=self.ssl_context,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        """What `choose_subprotocol` picks for the charger; with None, the handshake
        completes without the header and `_serve` closes at once."""
        admitted = self._admitted.get(connection)
        return choose_subprotocol(offered, None if admitted is None else admitted[1].ocpp_version)

    def _refused(self, why: str) -> None:
        if self.on_refused is not None:
            self.on_refused(why)

    def _refuse(self, connection: ServerConnection, status: int, reason: str) -> Response:
        self._refused(REFUSAL_NAMES.get(status, str(status)))
        return refuse(connection, status, reason)

    async def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        try:
            identity = identity_from_path(request.path, self.config.identity_max_length)
        except (IdentityError, UnicodeDecodeError) as exc:
            return self._refuse(connection, 400, str(exc))
        try:
            offered = offered_subprotocols(request.headers)
        except InvalidHeader as exc:
            return self._refuse(connection, 400, str(exc))
        if not any(name in ADAPTERS for name in offered):
            # Completed without Sec-WebSocket-Protocol, then closed with 1002 (_serve); not
            # admitted, so nothing is registered and no password is checked.
            log.warning(
                "refused %s: offers subprotocols %s, none of %s",
                identity,
                offered or "(none)",
                list(ADAPTERS),
            )
            self._refused(SUBPROTOCOL_REFUSAL)
            return None
        wait = self.throttle.blocked_for(identity)
        if wait > 0:
            response = self._refuse(connection, 429, "Too many failed logins; retry later")
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        try:
            password = basic_auth(request.headers, identity)
        except ValueError as exc:
            self.throttle.failed(identity)
            return self._refuse(connection, 401, str(exc))
        admission = await self.services.chargers.admit(
            identity,
            password,
            self.profiles,
            certificate_name(connection) if 3 in self.profiles else None,
        )
        if admission.refusal == 401 and password is not None:
            self.throttle.failed(identity)
        if admission.refusal:
            log.info("refused %s: %s", identity, admission.reason)
            return self._refuse(connection, admission.refusal, admission.reason)
        self.throttle.succeeded(identity)
        self._admitted[connection] = (identity, admission)
        if admission.ocpp_version and not choose_subprotocol(offered, admission.ocpp_version):
            # completed without Sec-WebSocket-Protocol and closed by _serve, as above
            log.warning(
                "refused %s: registered for OCPP %s, offers subprotocols %s",
                identity,
                admission.ocpp_version,
                offered,
            )
            self._refused(SUBPROTOCOL_REFUSAL)
        return None

    async def _serve(self, websocket: ServerConnection) -> None:
        admitted = self._admitted.pop(websocket, None)
        if admitted is None or websocket.subprotocol is None:
            reason = "No supported subprotocol offered"
            if admitted is not None and admitted[1].ocpp_version:
                reason = f"Registered for OCPP {admitted[1].ocpp_version}, not offered"
            await websocket.close(CLOSE_PROTOCOL_ERROR, reason)
            return
        identity, admission = admitted
        if admission.register:
            await self.services.chargers.auto_register(identity)
        if admission.upgrade:
            await self.services.chargers.upgraded(identity, admission.upgrade)
        adapter = ADAPTERS[websocket.subprotocol]  # the version the charger speaks
        connection = Connection(
            identity, websocket, self.services, adapter, boot_accepted=admission.boot_accepted
        )
        previous = self.registry.add(connection)
        if previous is not None:
            log.info("%s connected again: closing its previous connection", identity)
            await previous.close(1000, "Replaced by a new connection")
        if self.cluster is not None:
            await self.cluster.claimed(identity, connection.adapter.dialect.subprotocol)
        await self.services.chargers.connected(identity)
        try:
            await connection.serve()
        finally:
            if self.registry.remove(connection) and (
                self.cluster is None or await self.cluster.released(identity)
            ):
                await self.services.chargers.disconnected(identity)
