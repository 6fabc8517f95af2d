"""The cost of a message does not grow with what is stored: every statement of a hot path and
of the paged reads is planned on an index that matches it (EXPLAIN QUERY PLAN over the real
schema), on a new database and on a filled and ANALYZEd one, so neither a schema change nor
statistics can silently turn a lookup into a scan."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from csms import CsmsApp
from csms.store import chargers, commands, log, retention, transactions
from csms.store.db import Database, Writer, apply_migrations
from csms.store.fill import Site, charger_id, fill
from tests.conftest import csms_config
from tests.csms.client import RawClient

# tables that grow with the fleet, not with time: a pass over one of them is no decay
FLEET = ("chargers", "connectors", "id_tags", "charger_configuration", "reservations",
         "charging_profiles", "CONSTANT")  # fmt: skip
SMALL_SITE = Site(chargers=20, days=4, transactions=800, tags=200, active=5)
TOKEN = "plans-token-0123456789"


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small site's history, ANALYZEd (as `PRAGMA optimize` leaves a database in use)."""
    path = tmp_path_factory.mktemp("plans") / "filled.db"
    fill(path, SMALL_SITE)
    return path


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "empty.db"
    apply_migrations(path)
    return path


def plan(path: Path, sql: str, params: Any = None) -> list[str]:
    """The plan's lines, e.g. 'SEARCH meter_values USING INDEX meter_values_tx (...)'."""
    if params is None:  # the plan does not depend on the values (no STAT4)
        numbered = [int(n) for n in re.findall(r"\?(\d+)", sql)]
        params = [None] * (max(numbered) if numbered else sql.count("?"))
    with closing(sqlite3.connect(path)) as db:
        return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def uses(lines: list[str], table: str, index: str) -> bool:
    if index == "rowid order":  # the table itself, walked in the order asked for
        return f"SCAN {table}" in lines
    wanted = (
        f"{table} USING INTEGER PRIMARY KEY"
        if index == "PRIMARY KEY"
        else f"{table} USING INDEX {index}"
    )
    wanted_covering = f"{table} USING COVERING INDEX {index}"
    return any(
        line.startswith(("SEARCH ", "SCAN ")) and (wanted in line or wanted_covering in line)
        for line in lines
    )


# (name, SQL, the index each history table it reads (by its name in the plan: its alias if
# it has one) must be searched with)
STATEMENTS: list[tuple[str, str, dict[str, str]]] = [
    ("stored samples of an instant, in a transaction", transactions.IN_TRANSACTION_AT,
     {"meter_values": "meter_values_tx"}),
    ("stored samples of an instant, outside transactions", transactions.LOOSE_AT,
     {"meter_values": "meter_values_loose"}),
    ("the transaction of a MeterValues", transactions.METER_TRANSACTION,
     {"transactions": "PRIMARY KEY"}),
    ("a transaction", transactions.TRANSACTION, {"transactions": "PRIMARY KEY"}),
    ("a repeated start", transactions.START_REPEATED,
     {"transactions": "transactions_start_key"}),
    ("the connector's active transaction", transactions.CONNECTOR_ACTIVE,
     {"transactions": "transactions_active"}),
    ("a tag in a transaction", transactions.TAG_BUSY, {"transactions": "transactions_tag"}),
    ("a transaction's samples", transactions.TRANSACTION_SAMPLES,
     {"meter_values": "meter_values_tx"}),
    ("energy so far", transactions.LATEST_REGISTER.format(marks="?, ?, ?"),
     {"t": "PRIMARY KEY", "s": "meter_values_tx", "m": "PRIMARY KEY"}),
    ("a late StartTransaction link", log.LINK, {"message_log": "message_log_action"}),
    ("reservations used", commands.RESERVATIONS_USED,
     {"transactions": "transactions_reservation"}),
    ("retention: the next charger and connector", retention.LOOSE_NEXT,
     {"meter_values": "meter_values_loose"}),
    ("retention: a batch of meter values", retention.LOOSE_PRUNE,
     {"meter_values": "meter_values_loose"}),
]  # fmt: skip

# paged reads: (name, SQL, index); the index must also give the order (no sort of history)
PAGED: list[tuple[str, str, str, str]] = [
    ("transactions", transactions.find_query(None, None, None, None)[0],
     "transactions", "rowid order"),
    ("a charger's transactions", transactions.find_query("CP", None, None, None)[0],
     "transactions", "transactions_charger"),
    ("a charger's completed transactions",
     transactions.find_query("CP", "Completed", None, None)[0],
     "transactions", "transactions_charger"),
    ("a charger's messages", log.query_sql(None, None, False), "message_log",
     "message_log_charger"),
    ("a charger's messages, newest first", log.query_sql(None, None, True), "message_log",
     "message_log_charger"),
    ("a charger's messages of one action", log.query_sql("MeterValues", None, True),
     "message_log", "message_log_action"),
    ("a charger's messages of one action and direction",
     log.query_sql("MeterValues", "in", False), "message_log", "message_log_action"),
    ("a charger's messages in one direction", log.query_sql(None, "out", True),
     "message_log", "message_log_charger"),
    ("a transaction's messages", log.transaction_sql(False), "message_log",
     "message_log_transaction"),
    ("a transaction's messages, newest first", log.transaction_sql(True), "message_log",
     "message_log_transaction"),
    ("a charger's recent events", chargers.RECENT_EVENTS, "charger_events",
     "charger_events_recent"),
]  # fmt: skip


@pytest.fixture(params=["empty", "filled"])
def database(request: pytest.FixtureRequest) -> Path:
    path: Path = request.getfixturevalue(request.param)
    return path


@pytest.mark.parametrize(("name", "sql", "wanted"), STATEMENTS, ids=[s[0] for s in STATEMENTS])
def test_hot_statements_search_their_index(
    database: Path, name: str, sql: str, wanted: dict[str, str]
) -> None:
    lines = plan(database, sql)
    for table, index in wanted.items():
        assert uses(lines, table, index), f"{name}: {lines}"
    assert not history_scans(lines), f"{name}: {lines}"


@pytest.mark.parametrize(("name", "sql", "table", "index"), PAGED, ids=[p[0] for p in PAGED])
def test_paged_reads_come_in_index_order(
    database: Path, name: str, sql: str, table: str, index: str
) -> None:
    lines = plan(database, sql)
    assert uses(lines, table, index), f"{name}: {lines}"
    assert not any("TEMP B-TREE" in line for line in lines), f"{name} sorts: {lines}"


def test_the_active_transactions_are_read_from_their_own_index(database: Path) -> None:
    """The dashboard's list: the active ones only (a few per connector), sorted."""
    for charger in (None, "CP"):
        sql, _ = transactions.find_query(charger, "Active", None, None)
        lines = plan(database, sql)
        assert uses(lines, "transactions", "transactions_active"), lines


def test_the_log_is_pruned_from_its_oldest_rows(database: Path) -> None:
    """The batch is the oldest rows in rowid order, stopped by its LIMIT: no sort, no pass."""
    lines = plan(database, retention.LOG_PRUNE)
    assert lines == [
        "SEARCH message_log USING INTEGER PRIMARY KEY (rowid=?)",
        "LIST SUBQUERY 1",
        "SCAN message_log",
    ]


def history_scans(lines: list[str]) -> list[str]:
    """The plan's full passes over a table that grows with time (or one of its indexes, but
    the index of the active transactions: they are a few per connector). A pass over a
    subquery's own rows (a VALUES list, a LIMITed subquery) is bounded by the statement."""
    own = {line.split()[1] for line in lines if line.startswith(("MATERIALIZE ", "CO-ROUTINE "))}
    return [
        line
        for line in lines
        if line.startswith("SCAN ")
        and line.split()[1] not in (*FLEET, *own)
        and "transactions_active" not in line
    ]


class Recorder:
    """Every statement the store runs, with its parameters (the first row of an executemany)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: dict[str, Any] = {}
        for cls, names in (
            (Writer, ("execute", "executemany", "fetch_one", "fetch_all", "fetch_rows")),
            (Database, ("fetch_one", "fetch_all")),
        ):
            for method in names:
                monkeypatch.setattr(cls, method, self._wrap(getattr(cls, method), method))

    def _wrap(self, original: Any, method: str) -> Any:
        seen = self.seen

        def record(sql: str, params: Any) -> None:
            if method == "executemany":
                params = list(params)
                if not params:
                    return
                seen.setdefault(sql, params[0])
                return
            seen.setdefault(sql, params)

        if method == "executemany":

            def many(self: Any, sql: str, rows: Any = ()) -> Any:
                rows = list(rows)
                record(sql, rows)
                return original(self, sql, rows)

            return many

        def one(self: Any, sql: str, params: Any = ()) -> Any:
            record(sql, params)
            return original(self, sql, params)

        return one


async def _session(url: str, api: str) -> None:
    """What chargers and the dashboard do, against the filled site's charger SITE-001."""
    identity = charger_id(0)
    client = await RawClient.open(f"{url}/{identity}")
    now = "2026-12-01T10:00:00.000Z"
    samples = [
        {"value": str(value), "measurand": measurand, "context": "Sample.Periodic"}
        for value, measurand in (
            (100, "Energy.Active.Import.Register"),
            (11, "Power.Active.Import"),
        )
    ]
    frames: list[tuple[str, dict[str, Any]]] = [
        ("BootNotification", {"chargePointVendor": "v", "chargePointModel": "m"}),
        ("StatusNotification", {"connectorId": 1, "status": "Preparing", "errorCode": "NoError"}),
        ("Authorize", {"idTag": "TAG-00001"}),
        ("Heartbeat", {}),
        ("StartTransaction",
         {"connectorId": 1, "idTag": "TAG-00001", "meterStart": 0, "timestamp": now}),
    ]  # fmt: skip
    for action, payload in frames:
        answer = await client.call(action, payload)
        assert answer[0] == 3, answer
    transaction = answer[2]["transactionId"]
    meter = [{"timestamp": now, "sampledValue": samples}]
    for payload in (
        {"connectorId": 1, "transactionId": transaction, "meterValue": meter},
        {"connectorId": 0, "meterValue": meter},
        {"transactionId": transaction, "meterStop": 200, "timestamp": now, "reason": "Local",
         "transactionData": meter},
        {"vendorId": "ocpp-bench", "messageId": "x", "data": "y"},
    ):  # fmt: skip
        action = (
            "StopTransaction"
            if "meterStop" in payload
            else "DataTransfer"
            if "vendorId" in payload
            else "MeterValues"
        )
        answer = await client.call(action, payload)
        assert answer[0] == 3, answer
    await client.ws.close()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=api, headers=headers, timeout=10) as http:
        for route in (
            "/api/transactions?limit=50",
            "/api/transactions?status=Active&limit=200",
            f"/api/transactions?chargerId={identity}&limit=50",
            f"/api/transactions/{transaction}",
            f"/api/chargers/{identity}",
            f"/api/chargers/{identity}/messages?limit=100",
            f"/api/chargers/{identity}/messages?order=desc&limit=50",
            f"/api/chargers/{identity}/messages?action=StartTransaction&order=desc",
            "/api/chargers?limit=1000",
        ):
            response = await http.get(route)
            assert response.status_code == 200, (route, response.text)


@pytest.fixture
def recorded(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The statements a real CSMS ran for a session and the dashboard, over a filled site."""
    shutil.copy(filled, tmp_path / "csms.db")
    recorder = Recorder(monkeypatch)
    config = csms_config(tmp_path, api_port=0, api_token=TOKEN)

    async def run() -> None:
        async with CsmsApp(config) as app:
            await _session(app.ocpp_url, app.api_url)

    asyncio.run(run())
    yield filled, recorder.seen


def test_every_statement_of_a_session_and_the_dashboard_is_index_backed(
    recorded: tuple[Path, dict[str, Any]],
) -> None:
    path, seen = recorded
    assert transactions.LOOSE_AT in seen  # the session was recorded
    for sql, params in seen.items():
        if sql.lstrip().upper().startswith("PRAGMA"):
            continue
        lines = plan(path, sql, params)
        if history_scans(lines):
            # a scan is fine only in the order asked for and stopped by LIMIT
            ordered = "LIMIT" in sql and not any("TEMP B-TREE" in x for x in lines)
            assert ordered and " WHERE " not in sql.split("FROM", 1)[1], f"{sql}: {lines}"
