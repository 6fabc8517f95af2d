"""Fixtures of the CSMS tests: each runs on SQLite and on PostgreSQL (but the modules about
one engine or about no store), and a registered charger connected over a raw OCPP-J client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from csms import CsmsApp

from ..conftest import STORE
from .client import RawClient

# Modules not run on both engines: about SQLite itself (its files, plans, fill, migrations of
# an old release's file), about the wire, where the store plays no part, or about moving from
# one engine to the other (test_copy), needing PostgreSQL (test_cluster), or about the
# browser (test_dashboard, test_docs: their data comes through the API, tested on both).
ONE_ENGINE = frozenset(
    {
        "test_cli_database",
        "test_cli_maintenance",
        "test_cluster",
        "test_cluster_calls",
        "test_cluster_load",
        "test_connections_stress",
        "test_copy",
        "test_dashboard",
        "test_docs",
        "test_fill",
        "test_fuzz",
        "test_handshake_abuse",
        "test_heap",
        "test_loop",
        "test_malformed",
        "test_migration_ocpp201",
        "test_payloads",
        "test_postgres_store",
        "test_protocol_misuse",
        "test_query_plans",
        "test_robustness",
        "test_store_db",
    }
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        module = metafunc.module.__name__.rsplit(".", 1)[-1]
        if module not in ONE_ENGINE:
            both = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
            metafunc.parametrize("store", both, indirect=True)


@pytest.fixture(autouse=True)
def store(request: pytest.FixtureRequest) -> Iterator[str]:
    """The engine of this test's CSMS database: csms_config() picks it up."""
    kind: str = getattr(request, "param", "sqlite")
    STORE.url = request.getfixturevalue("postgres_database") if kind == "postgresql" else None
    try:
        yield kind
    finally:
        STORE.url = None


@pytest.fixture
async def client(csms_app: CsmsApp) -> AsyncIterator[RawClient]:
    """Charger CP-1, connected, not booted yet."""
    await csms_app.services.chargers.register("CP-1")
    client = await RawClient.open(f"{csms_app.ocpp_url}/CP-1")
    yield client
    await client.close()


@pytest.fixture
async def booted_client(client: RawClient) -> RawClient:
    """Charger CP-1, connected, boot accepted."""
    assert (await client.boot())["status"] == "Accepted"
    return client
