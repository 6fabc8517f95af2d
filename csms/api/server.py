"""Uvicorn, run inside the CSMS's event loop on a socket bound before it starts."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process that embeds the CSMS owns signal handling (`ocpp-bench csms serve`).
        yield


class ApiServer:
    """Bind at once (errors such as a busy port surface in `bind()`), serve in `serve()`, stop
    gracefully with `stop()` (open requests finish first)."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._socket = socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,  # the dashboard passes its token as ?token= once
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=5,
        )
        self._server = _Server(config)

    @property
    def port(self) -> int:
        port: int = self._socket.getsockname()[1]
        return port

    async def serve(self) -> None:
        with self._socket:
            await self._server.serve(sockets=[self._socket])

    def stop(self) -> None:
        self._server.should_exit = True

    def close(self) -> None:
        """Release the socket of a server that never served."""
        self._socket.close()
