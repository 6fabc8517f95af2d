"""Authentication, /health, /metrics, docs, the token file, and the API's life cycle."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import httpx
import pytest

from csms import CsmsApp
from csms.api import token_path
from ocpp_bench.cli import main
from tests.conftest import csms_config, eventually

from .charger import TestCharger
from .conftest import TOKEN


async def test_health_needs_no_token(api_app: CsmsApp) -> None:
    async with httpx.AsyncClient(base_url=api_app.api_url) as anonymous:
        response = await anonymous.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "connectedChargers": 0}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/chargers"),
        ("GET", "/api/chargers/CP-1"),
        ("POST", "/api/chargers"),
        ("DELETE", "/api/chargers/CP-1"),
        ("GET", "/api/id-tags"),
        ("GET", "/api/transactions"),
        ("GET", "/api/chargers/CP-1/messages"),
        ("POST", "/api/chargers/CP-1/ocpp/Reset"),
        ("POST", "/api/operations/remote-start"),
        ("GET", "/api/ocpp/actions"),
        ("GET", "/metrics"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
    ],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["none", "wrong", "basic"],
)
async def test_everything_else_needs_the_token(
    api_app: CsmsApp, method: str, path: str, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=api_app.api_url, headers=headers) as anonymous:
        response = await anonymous.request(method, path, json={"chargerId": "CP-1"})
    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert await api_app.services.chargers.store.get("CP-1") is None


async def test_browser_may_pass_the_token_in_the_query(api_app: CsmsApp) -> None:
    async with httpx.AsyncClient(base_url=api_app.api_url) as browser:
        assert (await browser.get("/api/chargers", params={"token": TOKEN})).status_code == 200
        assert (await browser.get("/api/chargers", params={"token": "nope"})).status_code == 401
        login = await browser.get("/")
        assert login.status_code == 401 and "API token" in login.text
        dashboard = await browser.get("/", params={"token": TOKEN})
        assert dashboard.status_code == 200 and "Active transactions" in dashboard.text
        docs = await browser.get("/docs", params={"token": TOKEN})
        assert docs.status_code == 200 and f"/openapi.json?token={TOKEN}" in docs.text
        assert "cdn" not in docs.text  # the assets are served here, for offline labs
        script = await browser.get("/docs/assets/swagger-ui-bundle.js", params={"token": TOKEN})
        assert script.status_code == 200 and "SwaggerUIBundle" in script.text
        assert (await browser.get("/docs/assets/swagger-ui.css")).status_code == 401
        other = await browser.get("/docs/assets/index.html", params={"token": TOKEN})
        assert other.status_code == 404


async def test_openapi_describes_the_routes(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/chargers",
        "/api/chargers/{charger_id}",
        "/api/chargers/bulk",
        "/api/id-tags/{tag}",
        "/api/transactions/{transaction_id}",
        "/api/chargers/{charger_id}/messages",
        "/api/chargers/{charger_id}/ocpp/{action}",
        "/api/operations/remote-start",
        "/api/operations/get-configuration",
        "/health",
        "/metrics",
    ):
        assert path in paths, path
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


async def test_metrics(api_app: CsmsApp, client: httpx.AsyncClient, charger: TestCharger) -> None:
    charger.errors["Reset"] = ("NotSupported", "no")
    await client.post("/api/chargers/CP-1/ocpp/Reset", json={"type": "Soft"})
    await client.post("/api/chargers/CP-1/ocpp/ClearCache", json={})
    text = (await client.get("/metrics")).text
    assert "ocpp_connected_chargers 1.0" in text
    assert 'ocpp_messages_total{action="BootNotification",direction="in",type="CALL"} 1.0' in text
    assert (
        'ocpp_messages_total{action="BootNotification",direction="out",type="CALLRESULT"} 1.0'
        in text
    )
    assert 'ocpp_errors_total{code="NotSupported",direction="in"} 1.0' in text
    assert 'ocpp_handler_seconds_count{action="StatusNotification"} 1.0' in text
    assert 'ocpp_call_seconds_count{action="ClearCache"} 1.0' in text
    assert 'ocpp_handler_seconds_bucket{action="BootNotification",le="+Inf"} 1.0' in text


async def test_token_generated_once_and_kept_with_the_database(tmp_path: Path, store: str) -> None:
    """Beside the SQLite file (mode 0600); in a PostgreSQL database, where every node that
    uses it finds the same one."""
    config = csms_config(tmp_path, api_port=0)
    async with CsmsApp(config) as app:
        if store == "sqlite":
            token = token_path(config.db_path).read_text().strip()
            assert token_path(config.db_path).stat().st_mode & 0o077 == 0
        else:
            stored = await app.services.settings.get("api_token")
            assert stored is not None
            token = stored
            assert not token_path(config.db_path).exists()
        assert len(token) >= 32
        async with httpx.AsyncClient(base_url=app.api_url) as client:
            headers = {"Authorization": f"Bearer {token}"}
            assert (await client.get("/api/chargers", headers=headers)).status_code == 200
            wrong = {"Authorization": "Bearer not-the-token"}
            assert (await client.get("/api/chargers", headers=wrong)).status_code == 401
        other = csms_config(tmp_path / "another-node", api_port=0)
        async with CsmsApp(other) as node, httpx.AsyncClient(base_url=node.api_url) as client:
            answer = await client.get("/api/chargers", headers=headers)
            assert answer.status_code == (200 if store == "postgresql" else 401)
    async with CsmsApp(config) as again:
        assert again.services is not None
        if store == "sqlite":
            assert token_path(config.db_path).read_text().strip() == token
        else:
            assert await again.services.settings.get("api_token") == token
    location = str(config.db_location)
    printed = await asyncio.to_thread(_cli_output, "csms", "api-token", "--db", location)
    assert printed.strip() == token


def _cli_output(*args: str) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    return out.getvalue()


async def test_busy_api_port_fails_start(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = CsmsApp(csms_config(tmp_path, api_port=port, api_token=TOKEN))
        with pytest.raises(OSError):
            await app.start()
        await app.stop()


async def test_stop_answers_requests_in_flight(tmp_path: Path) -> None:
    """Graceful shutdown: a call waiting on a charger is answered (here 409/504) before the
    API goes away, and stop() does not hang."""
    app = CsmsApp(csms_config(tmp_path, api_port=0, api_token=TOKEN))
    await app.start()
    try:
        await app.services.chargers.register("CP-1")
        async with (
            TestCharger.connect(app.ocpp_url, "CP-1") as charger,
            httpx.AsyncClient(
                base_url=app.api_url, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as client,
        ):
            charger.hang.add("Reset")
            request = asyncio.create_task(
                client.post(
                    "/api/chargers/CP-1/ocpp/Reset", params={"timeout": 1}, json={"type": "Soft"}
                )
            )

            async def sent() -> bool:
                return bool(charger.received)

            await eventually(sent)
            stopping = asyncio.create_task(app.stop())
            response = await request
            await stopping
    except BaseException:
        await app.stop()
        raise
    assert response.status_code == 504


async def test_serve_reports_a_busy_api_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ocpp_bench.cli",
            "csms",
            "serve",
            "--db",
            str(tmp_path / "busy.db"),
            "--host",
            "127.0.0.1",
            "--ocpp-port",
            "0",
            "--api-port",
            port,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert b"could not start" in stderr and b"Address already in use" in stderr
