"""The CSMS process: database, services, OCPP server and background tasks, started together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .cluster import Cluster
from .config import CsmsConfig
from .connections import Connection, ConnectionRegistry
from .heap import HeapKeeper
from .metrics import Metrics
from .monitor import Monitor
from .operations import ChargerNotConnected, Operations
from .server import OcppServer
from .services import Services
from .store import open_database
from .store.retention import Pruner, Retention
from .tls import server_context

if TYPE_CHECKING:
    from .api import ApiServer

log = logging.getLogger(__name__)


class CsmsApp:
    """`async with CsmsApp(config) as app:` runs a complete CSMS until the block ends."""

    def __init__(self, config: CsmsConfig) -> None:
        self.config = config
        self.registry = ConnectionRegistry()
        self.metrics = Metrics(self.registry)
        self._services: Services | None = None
        self._operations: Operations | None = None
        self._server: OcppServer | None = None
        # TLS listeners by the security profiles they serve: (2,), (3,), and (2, 3)
        self._tls_servers: dict[tuple[int, ...], OcppServer] = {}
        self._api: ApiServer | None = None
        self.cluster: Cluster | None = None  # with a node_id: this node's part in its cluster
        self._api_done = asyncio.Event()
        self._stopped = False
        self._tasks: asyncio.Task[None] | None = None

    @property
    def services(self) -> Services:
        assert self._services is not None, "CSMS not started"
        return self._services

    @property
    def operations(self) -> Operations:
        """Send CSMS-initiated OCPP calls and keep the CSMS's state in step."""
        assert self._operations is not None, "CSMS not started"
        return self._operations

    @property
    def api_url(self) -> str:
        """Base URL of the HTTP API (when `config.api_port` is not None)."""
        assert self._api is not None, "HTTP API not started"
        return f"http://{self._local_host}:{self._api.port}"

    @property
    def _local_host(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", ""):
            return "127.0.0.1"
        return f"[{host}]" if ":" in host else host

    @property
    def ocpp_port(self) -> int:
        assert self._server is not None, "CSMS not started"
        return self._server.port

    @property
    def ocpp_url(self) -> str:
        return f"ws://{self._local_host}:{self.ocpp_port}/ocpp"

    def url_for_profile(self, profile: int) -> str:
        """The OCPP URL of the listener for security profile `profile` (0/1 ws, 2 and 3 wss):
        the profile's own port if configured, else the one listener for profiles 2 and 3."""
        if profile <= 1:
            return self.ocpp_url
        server = self._tls_servers.get((profile,)) or self._tls_servers.get((2, 3))
        if server is None:
            raise LookupError(f"no listener for security profile {profile} is configured")
        return self._wss_url(server)

    @property
    def wss_url(self) -> str:
        """The OCPP URL of the one listener for profiles 2 and 3 (`config.wss_port`)."""
        server = self._tls_servers.get((2, 3))
        if server is None:
            raise LookupError("no listener for security profiles 2 and 3 is configured")
        return self._wss_url(server)

    def _wss_url(self, server: OcppServer) -> str:
        return f"wss://{self._local_host}:{server.port}/ocpp"

    async def start(self) -> None:
        """Start everything; on failure (e.g. a port in use) what was started is stopped."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        db = await open_database(self.config.db_location)
        try:
            self._services = services = Services.build(db, self.config)
        except BaseException:  # e.g. an unusable CA file: nothing else holds the database yet
            await db.close()
            raise
        self._operations = Operations(services, self.call, self.registry, self._located)
        if self.config.node_id is None:
            await services.chargers.all_offline()  # a cluster's leader sweeps instead
        else:
            if self.config.db_url is None:
                raise ValueError("a cluster (node_id) needs a PostgreSQL database (db_url)")
            lease = self.config.cluster_lease
            self.cluster = Cluster(services, self.registry, self.config.node_id, lease)
            self.metrics.watch(self.cluster)
        if self.config.api_port is not None:
            from .api import ApiServer, Backend, create_api

            token = self.config.api_token or await self._stored_token(services)
            backend = Backend(services, self._operations, self.registry, self.metrics, self.cluster)
            api = create_api(backend, token)
            self._api = ApiServer(api, self.config.host, self.config.api_port)
        self._server = OcppServer(services, self.registry, on_refused=self.metrics.refused)
        await self._server.start(self.config.host, self.config.ocpp_port)
        await self._start_tls_listeners(services)
        if self.cluster is not None:
            await self._join_cluster(self.cluster)
        self._tasks = asyncio.create_task(self._background(), name="csms-background")
        log.info("OCPP server listening on %s", self.ocpp_url)
        if self._api is not None:
            log.info("HTTP API listening on %s", self.api_url)

    async def _join_cluster(self, cluster: Cluster) -> None:
        await cluster.start(self.ocpp_url, self.api_url if self._api is not None else "")
        for server in (self._server, *self._tls_servers.values()):
            if server is not None:
                server.cluster = cluster

    async def _stored_token(self, services: Services) -> str:
        """The API token kept beside the SQLite file, or in the PostgreSQL database: there,
        every node of a cluster shares it."""
        from .api import load_or_create_token, new_token

        if self.config.db_url is None:
            return load_or_create_token(self.config.db_path)
        return await services.settings.get_or_create("api_token", new_token)

    async def _start_tls_listeners(self, services: Services) -> None:
        """Profile 2 (TLS), profile 3 (mutual TLS), and profiles 2 and 3 on one port (a client
        certificate requested, optional: admission asks one of profile-3 chargers only)."""
        config = self.config
        wanted = {(2,): config.tls_port, (3,): config.mtls_port, (2, 3): config.wss_port}
        for profiles, port in wanted.items():
            if port is None:
                continue
            name = " and ".join(str(profile) for profile in profiles)
            what = f"security profile{'s' if len(profiles) > 1 else ''} {name}"
            if config.tls_cert is None:
                raise ValueError(f"{what}: a TLS certificate is needed (tls_cert)")
            if 3 in profiles and config.tls_client_ca is None:
                raise ValueError(f"{what}: the chargers' CA is needed (tls_client_ca)")
            context = server_context(
                config.tls_cert,
                config.tls_key,
                config.tls_client_ca if 3 in profiles else None,
                client_cert_optional=2 in profiles,
            )
            server = OcppServer(
                services,
                self.registry,
                self._server.throttle if self._server else None,
                profiles=profiles,
                ssl_context=context,
                on_refused=self.metrics.refused,
            )
            await server.start(config.host, port)
            self._tls_servers[profiles] = server
            log.info("OCPP %s listening on %s", what, self._wss_url(server))

    async def _background(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.services.log.run(), name="message-log")
            group.create_task(Monitor(self.services, self.registry).run(), name="monitor")
            group.create_task(self._pruner().run(), name="retention")
            if self.cluster is not None:
                group.create_task(self.cluster.run(), name="cluster")
            if self.config.gc_freeze_interval:
                keeper = HeapKeeper(self.registry, self.config.gc_freeze_interval)
                group.create_task(keeper.run(), name="heap-keeper")
            if self._api is not None:
                group.create_task(self._serve_api(self._api), name="http-api")

    def _pruner(self) -> Pruner:
        config = self.config
        retention = Retention(
            log_days=config.log_retention_days,
            meter_days=config.meter_retention_days,
            interval=config.retention_interval,
        )
        cluster = self.cluster
        leading = None if cluster is None else (lambda: cluster.leader)  # once per cluster
        return Pruner(self.services.db, retention, leading=leading)

    async def _serve_api(self, api: ApiServer) -> None:
        try:
            await api.serve()
        finally:
            self._api_done.set()

    async def stop(self) -> None:
        if self._api is not None and self._tasks is not None:
            self._api.stop()  # graceful: requests in flight are answered first
            done = asyncio.create_task(self._api_done.wait())
            await asyncio.wait({done, self._tasks}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            done.cancel()
        for server in [self._server, *self._tls_servers.values()]:
            if server is not None:
                await server.stop()
        if self._tasks is not None:
            self._tasks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tasks
        if self._api is not None:
            self._api.close()  # in case it never served
        if self.cluster is not None:
            await self.cluster.stop()
        if self._services is not None and not self._stopped:
            self._stopped = True
            await self._services.log.flush()
            await self._services.db.close()

    async def __aenter__(self) -> CsmsApp:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def connection(self, charger_id: str) -> Connection:
        connection = self.registry.get(charger_id)
        if connection is None:
            raise ChargerNotConnected(charger_id)
        return connection

    async def call(
        self, charger_id: str, action: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CSMS-initiated CALL to a connected charger and return its answer; in a
        cluster, through the node holding the charger when it is not this one."""
        if self.cluster is not None and self.registry.get(charger_id) is None:
            limit = self.config.call_timeout if timeout is None else timeout
            return await self.cluster.router.forward(charger_id, action, payload, limit)
        return await self.connection(charger_id).call(action, payload, timeout)

    async def _located(self, charger_id: str) -> str | None:
        """The subprotocol of the charger on the cluster's node holding it (None: none)."""
        return None if self.cluster is None else await self.cluster.router.subprotocol(charger_id)

    async def serve_forever(self) -> None:
        async with self:
            await asyncio.Event().wait()
