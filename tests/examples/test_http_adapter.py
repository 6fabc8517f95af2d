"""The adapter kit end to end: a central system written with the `ocpp` library, the kit's
three routes over it, and the conformance cases it can do run through the `http` driver."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.server import serve

from examples.http_adapter.adapter import make_app
from examples.http_adapter.ocpp_library_csms import LibraryBackend, LibraryCsms
from ocpp_bench.scenario.cli import default_paths

pytest_plugins = ["pytester"]

CASES = [
    "TC_001_CSMS", "TC_003_CSMS", "TC_010_CSMS", "TC_012_CSMS", "TC_013_CSMS",
    "TC_017_1_CSMS", "TC_019_2_CSMS", "TC_021_CSMS", "TC_023_1_CSMS", "TC_023_3_CSMS",
]  # fmt: skip


class Running:
    """The example CSMS and its adapter on a loop thread, both on 127.0.0.1, any port."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.ready = threading.Event()
        self.urls: tuple[str, str] = ("", "")
        self._stop: asyncio.Event | None = None
        self._done: Any = None

    def __enter__(self) -> Running:
        self.thread.start()
        self._done = asyncio.run_coroutine_threadsafe(self._run(), self.loop)
        assert self.ready.wait(20), "the example CSMS did not start"
        return self

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        csms = LibraryCsms()
        config = uvicorn.Config(
            make_app(LibraryBackend(csms)), host="127.0.0.1", port=0, log_level="warning"
        )
        api = uvicorn.Server(config)
        listener = socket.create_server(("127.0.0.1", 0))  # listening: calls queue till served
        async with serve(csms.serve, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as ocpp:  # type: ignore[list-item]
            serving = asyncio.create_task(api.serve(sockets=[listener]))
            api_port = listener.getsockname()[1]
            ocpp_port = next(iter(ocpp.sockets)).getsockname()[1]
            self.urls = (f"ws://127.0.0.1:{ocpp_port}/ocpp", f"http://127.0.0.1:{api_port}")
            self.ready.set()
            await self._stop.wait()
            api.should_exit = True
            await serving
            listener.close()

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self._done.result(20)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def test_the_cases_the_example_csms_can_do_pass_through_the_kit(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    with Running() as running:
        url, api = running.urls
        result = pytester.run(
            sys.executable, "-m", "ocpp_bench.cli", "run", default_paths("1.6")[0],
            "--csms-url", url, "--csms-driver", "http", "--csms-api", api,
            "-k", " or ".join(CASES), "--report-dir", str(tmp_path / "reports"), timeout=180,
        )  # fmt: skip
    out = result.stdout.str()
    cases = ET.parse(tmp_path / "reports" / "junit.xml").getroot().iter("testcase")
    failed = [c.get("name") for c in cases if list(c.iter("failure")) or list(c.iter("skipped"))]
    assert failed == [], out[-6000:]
    assert result.ret == 0
