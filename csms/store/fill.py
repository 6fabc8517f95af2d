"""A site's history, generated: what a CSMS database holds after months of real traffic.

`fill(path, Site.year())` writes a year of a 100-charger site into a new database through the
store's own schema (the migrations): chargers, connectors and tags; 200,000 transactions with
their meter values; clock-aligned values outside transactions on every charger's connector 0;
and the message log of all of it, every frame in and out, with payloads of the real shapes.
Rows are written day after day, so ids follow time as they do in a live database. It is for
the benchmark (`ocpp-bench bench` runs every stage on an empty and on a filled database) and
for tests that need a database of some size.

Fast: the rows are made by SQLite itself (INSERT ... SELECT over small tables of shapes, one
statement per day and kind), with the tables' indexes dropped during the fill and built again
at the end, without a journal, then `ANALYZE`d as `PRAGMA optimize` would.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .db import apply_migrations, iso

__all__ = ["Filled", "Site", "fill"]

FILLED_TABLES = ("chargers", "connectors", "id_tags", "transactions", "meter_values", "message_log")
ISO = "'%Y-%m-%dT%H:%M:%fZ'"  # what utcnow() writes: milliseconds, Z

# the 10 values of a sampled MeterValues in a transaction: measurand, unit, phase, location,
# typical value (the energy register, first, is computed from the transaction's meter)
SAMPLED = (
    ("Energy.Active.Import.Register", "Wh", None, "Outlet", 0.0),
    ("Power.Active.Import", "W", None, "Outlet", 11000.0),
    ("Current.Import", "A", "L1", "Outlet", 16.0),
    ("Current.Import", "A", "L2", "Outlet", 16.0),
    ("Current.Import", "A", "L3", "Outlet", 16.0),
    ("Voltage", "V", "L1-N", "Outlet", 230.0),
    ("Voltage", "V", "L2-N", "Outlet", 230.0),
    ("Voltage", "V", "L3-N", "Outlet", 230.0),
    ("Temperature", "Celsius", None, "Body", 35.0),
    ("SoC", "Percent", None, "EV", 50.0),
)
# the values a charger's main meter sends clock-aligned on connector 0
CLOCK = (
    ("Energy.Active.Import.Register", "Wh", None, "Inlet", 0.0),
    ("Energy.Active.Export.Register", "Wh", None, "Inlet", 0.0),
    ("Power.Active.Import", "W", None, "Inlet", 22000.0),
    ("Voltage", "V", "L1-N", "Inlet", 230.0),
    ("Current.Import", "A", "L1", "Inlet", 32.0),
)


@dataclass(frozen=True)
class Site:
    """What to generate. The default is a year of a 100-charger site."""

    chargers: int = 100
    days: int = 365
    transactions: int = 200_000
    tags: int = 5_000
    readings: int = 3  # sampled MeterValues per transaction, len(SAMPLED) values each
    clock_minutes: int = 60  # clock-aligned values outside transactions, len(CLOCK) each
    active: int = 25  # transactions still active at the end (at most one per charger)
    end: float = 0.0  # epoch of the history's end, on the hour; 0: the last full hour

    @classmethod
    def year(cls) -> Site:
        return cls()

    def scaled(self, share: float) -> Site:
        """The same site over `share` of the time (days, transactions, so every row count)."""
        days = max(1, round(self.days * share))
        return replace(self, days=days, transactions=max(1, round(self.transactions * share)))

    @property
    def slots(self) -> int:
        """Clock-aligned instants a day."""
        return 1440 // self.clock_minutes

    @property
    def running(self) -> int:
        """Transactions still active at the end (they have sent half their readings)."""
        return min(self.active, self.chargers, self.transactions)

    @property
    def meter_rows(self) -> int:
        half = (self.readings + 1) // 2
        in_transactions = (self.transactions - self.running) * self.readings + self.running * half
        return in_transactions * len(SAMPLED) + self.chargers * self.days * self.slots * len(CLOCK)

    @property
    def log_rows(self) -> int:
        half = (self.readings + 1) // 2
        done = self.transactions - self.running
        frames = done * (6 + self.readings) + self.running * (4 + half)
        return 2 * (frames + self.chargers * self.days * self.slots)


@dataclass(frozen=True)
class Filled:
    site: Site
    rows: dict[str, int]
    seconds: float
    bytes: int


def charger_id(index: int) -> str:
    """The identity of the site's charger `index` (0-based): SITE-001, SITE-002, ..."""
    return f"SITE-{index + 1:03d}"


def fill(path: Path, site: Site) -> Filled:
    """Create the database at `path` (it must not exist) filled with `site`'s history."""
    if path.exists():
        raise FileExistsError(f"{path} exists: fill() makes a new database")
    began = time.perf_counter()
    apply_migrations(path)
    end = site.end or float(int(time.time()) // 3600 * 3600)  # on the hour: clock-aligned
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=MEMORY",
                       "cache_size=-262144", "foreign_keys=OFF"):  # fmt: skip
            db.execute(f"PRAGMA {pragma}")
        indexes = _drop_indexes(db)
        db.execute("BEGIN")
        _shapes(db, site)
        _registry(db, site, end)
        begin = end - site.days * 86400
        _transactions(db, site, begin, end)
        for day in range(site.days):
            _day(db, site, begin + day * 86400)
        db.execute("COMMIT")
        for sql in indexes:
            db.execute(sql)
        db.execute("PRAGMA analysis_limit=1000")
        db.execute("ANALYZE")
        rows = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in FILLED_TABLES}
        db.execute("PRAGMA journal_mode=WAL")
    return Filled(site, rows, time.perf_counter() - began, path.stat().st_size)


def _drop_indexes(db: sqlite3.Connection) -> list[str]:
    """Drop the filled tables' indexes (built again, faster, once the rows are in)."""
    marks = ", ".join("?" * len(FILLED_TABLES))
    found = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks})",
        FILLED_TABLES,
    ).fetchall()
    for name, _ in found:
        db.execute(f"DROP INDEX {name}")
    return [sql for _, sql in found]


def _shapes(db: sqlite3.Connection, site: Site) -> None:
    """Small temporary tables the generating statements join with."""
    tables = """
        CREATE TEMP TABLE fill_sampled (k INTEGER PRIMARY KEY, measurand TEXT, unit TEXT,
            phase TEXT, location TEXT, base REAL);
        CREATE TEMP TABLE fill_clock (k INTEGER PRIMARY KEY, measurand TEXT, unit TEXT,
            phase TEXT, location TEXT, base REAL);
        CREATE TEMP TABLE fill_reading (r INTEGER PRIMARY KEY);
        CREATE TEMP TABLE fill_slot (s INTEGER PRIMARY KEY);
        CREATE TEMP TABLE fill_direction (direction TEXT, type INTEGER, delay REAL);
        CREATE TEMP TABLE fill_step (m INTEGER PRIMARY KEY, action TEXT, frac REAL,
            offset REAL, linked INTEGER, call TEXT, answer TEXT);
        CREATE TEMP TABLE fill_charger (n INTEGER PRIMARY KEY, id TEXT)
        """
    for table in tables.split(";"):  # not executescript(): it would commit
        db.execute(table)
    for table, shapes in (("fill_sampled", SAMPLED), ("fill_clock", CLOCK)):
        db.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?)",
            [(k, *shape) for k, shape in enumerate(shapes)],
        )
    db.executemany("INSERT INTO fill_reading VALUES (?)", [(r,) for r in range(site.readings)])
    db.executemany("INSERT INTO fill_slot VALUES (?)", [(s,) for s in range(site.slots)])
    db.executemany(
        "INSERT INTO fill_direction VALUES (?, ?, ?)", [("in", 2, 0.0), ("out", 3, 0.004)]
    )
    db.executemany("INSERT INTO fill_step VALUES (?, ?, ?, ?, ?, ?, ?)", _steps(site))
    db.executemany(
        "INSERT INTO fill_charger VALUES (?, ?)", [(n, charger_id(n)) for n in range(site.chargers)]
    )


def _steps(site: Site) -> list[tuple[Any, ...]]:
    """The frames of one transaction: (m, action, share of the session, seconds after that,
    linked to the transaction, CALL payload, answer payload). @-words are filled per row."""
    info = '{"idTagInfo":{"status":"Accepted","expiryDate":"2030-01-01T00:00:00.000Z"}}'
    status = '{"connectorId":@CONN,"errorCode":"NoError","status":"%s","timestamp":"@TS"}'
    steps: list[tuple[str, float, float, int, str, str]] = [
        ("StatusNotification", 0.0, -20.0, 0, status % "Preparing", "{}"),
        ("Authorize", 0.0, -10.0, 0, '{"idTag":"@TAG"}', info),
        ("StartTransaction", 0.0, 0.0, 1,
         '{"connectorId":@CONN,"idTag":"@TAG","meterStart":@MSTART,"timestamp":"@TS"}',
         '{"transactionId":@TX,' + info[1:]),
        ("StatusNotification", 0.0, 1.0, 0, status % "Charging", "{}"),
    ]  # fmt: skip
    samples = ",".join(
        f'{{"value":"@V{k}","context":"Sample.Periodic","measurand":"{m}",'
        + (f'"phase":"{p}",' if p else "")
        + f'"location":"{loc}","unit":"{u}"}}'
        for k, (m, u, p, loc, _) in enumerate(SAMPLED)
    )
    meter = (
        '{"connectorId":@CONN,"transactionId":@TX,"meterValue":[{"timestamp":"@TS",'
        f'"sampledValue":[{samples}]}}]}}'
    )
    for r in range(site.readings):
        steps.append(("MeterValues", (r + 1) / (site.readings + 1), 0.0, 1, meter, "{}"))
    steps += [
        ("StopTransaction", 1.0, 0.0, 1,
         '{"transactionId":@TX,"idTag":"@TAG","meterStop":@MSTOP,"timestamp":"@TS",'
         '"reason":"Local"}', info),
        ("StatusNotification", 1.0, 5.0, 0, status % "Available", "{}"),
    ]  # fmt: skip
    return [(m, *step) for m, step in enumerate(steps)]


def _registry(db: sqlite3.Connection, site: Site, end: float) -> None:
    now = iso(datetime.fromtimestamp(end, UTC))
    db.execute(
        "INSERT INTO chargers (id, name, vendor, model, serial_number, firmware_version,"
        " registration, boot_accepted, last_boot_at, created_at, updated_at)"
        " SELECT id, 'Site charger ' || (n + 1), 'ocpp-bench', 'Fill 22', 'SN-' || id, '1.0.0',"
        " 'Accepted', 1, ?1, ?1, ?1 FROM fill_charger",
        (now,),
    )
    db.execute(
        "INSERT INTO connectors (charger_id, connector_id, status, error_code, updated_at)"
        " SELECT id, c.value, 'Available', 'NoError', ?1 FROM fill_charger,"
        " (SELECT 0 AS value UNION ALL SELECT 1 UNION ALL SELECT 2) AS c",
        (now,),
    )
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)"
        " INSERT INTO id_tags (id_tag, status, created_at, updated_at)"
        " SELECT printf('TAG-%05d', i), 'Accepted', ?2, ?2 FROM n",
        (site.tags, now),
    )


def _transactions(db: sqlite3.Connection, site: Site, begin: float, end: float) -> None:
    """fill_tx: one row per transaction, with epoch times; then the transactions themselves.
    Starts are spread evenly (start order is id order); sessions last 30 min to 4 h; the last
    `active` ones, on distinct chargers, are still running."""
    step = (end - begin - 4 * 3600) / site.transactions
    active = site.running
    db.execute(
        "CREATE TEMP TABLE fill_tx (id INTEGER PRIMARY KEY, charger TEXT, connector INTEGER,"
        " tag TEXT, start REAL, span REAL, meter_start INTEGER, energy INTEGER, active INTEGER)"
    )
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)"
        " INSERT INTO fill_tx SELECT i + 1, c.id, 1 + (i / ?2) % 2,"
        " printf('TAG-%05d', 1 + (i * 7919) % ?3), ?4 + i * ?5 + (i * 104729) % CAST(?5 AS INT),"
        " 1800 + (i * 15485863) % 12600, (i / ?2) * 40000, 0, i >= ?1 - ?6"
        " FROM n JOIN fill_charger AS c ON c.n = i % ?2",
        (site.transactions, site.chargers, site.tags, begin, max(step, 1.0), active),
    )
    db.execute("UPDATE fill_tx SET energy = CAST(span * 3.05 AS INT)")  # about 11 kW
    db.execute(
        f"INSERT INTO transactions (id, charger_id, connector_id, id_tag, auth_status,"
        f" meter_start, start_timestamp, meter_stop, stop_timestamp, stop_reason, status,"
        f" created_at, updated_at)"
        f" SELECT id, charger, connector, tag, 'Accepted', meter_start,"
        f" strftime({ISO}, start, 'unixepoch'),"
        f" CASE WHEN active THEN NULL ELSE meter_start + energy END,"
        f" CASE WHEN active THEN NULL ELSE strftime({ISO}, start + span, 'unixepoch') END,"
        f" CASE WHEN active THEN NULL ELSE 'Local' END,"
        f" CASE WHEN active THEN 'Active' ELSE 'Completed' END,"
        f" strftime({ISO}, start, 'unixepoch'),"
        f" strftime({ISO}, CASE WHEN active THEN start ELSE start + span END, 'unixepoch')"
        f" FROM fill_tx ORDER BY id"
    )
    db.execute("CREATE INDEX fill_tx_start ON fill_tx (start)")


def _sample(k: str, reading: str) -> str:
    """SQL of the value of sample `k` of reading `reading` of transaction t: the energy
    register from the transaction's meter, the others near their shape's typical value."""
    energy = f"t.meter_start + ({reading} + 1) * t.energy / ?3"
    base = f"(SELECT base FROM fill_sampled WHERE fill_sampled.k = {k})"
    return (
        f"CASE WHEN {k} = 0 THEN printf('%d', {energy})"
        f" ELSE printf('%.1f', {base} * (0.9 + ((t.id * 31 + {reading} * 7 + {k}) % 20) / 100.0))"
        " END"
    )


def _day(db: sqlite3.Connection, site: Site, day: float) -> None:
    """One day's rows: the meter values and frames of the transactions started that day,
    then the clock-aligned values of every charger."""
    first, last = db.execute(
        "SELECT min(id), max(id) FROM fill_tx WHERE start >= ? AND start < ?", (day, day + 86400)
    ).fetchone()
    if first is not None:
        _day_transactions(db, site, first, last)
    _day_clock(db, site, day)


def _day_transactions(db: sqlite3.Connection, site: Site, first: int, last: int) -> None:
    db.execute(
        "INSERT INTO meter_values (charger_id, connector_id, transaction_id, timestamp, value,"
        " measurand, unit, phase, location, context, format, source)"
        f" SELECT t.charger, t.connector, t.id,"
        f" strftime({ISO}, t.start + (r.r + 1) * t.span / ?3, 'unixepoch'),"
        f" {_sample('s.k', 'r.r')},"
        " s.measurand, s.unit, s.phase, s.location, 'Sample.Periodic', NULL, 'MeterValues'"
        " FROM fill_tx AS t, fill_reading AS r, fill_sampled AS s"
        # a running transaction has sent the readings of its first half only
        " WHERE t.id BETWEEN ?1 AND ?2 AND NOT (t.active AND (r.r + 1) * 2 > ?3)"
        " ORDER BY t.id, r.r, s.k",
        (first, last, site.readings + 1),
    )
    # the frames: CALL in, answer out, each payload its step's template with the @-words filled
    body = "CASE WHEN d.type = 2 THEN m.call ELSE m.answer END"
    reading = "(m.m - 4)"  # steps 4 .. 4 + readings - 1 are the MeterValues
    for k in range(len(SAMPLED)):
        body = f"replace({body}, '@V{k}', {_sample(str(k), reading)})"
    at = "t.start + m.frac * t.span + m.offset"
    for word, value in (
        ("@TS", f"strftime({ISO}, {at}, 'unixepoch')"),
        ("@CONN", "t.connector"),
        ("@TAG", "t.tag"),
        ("@TX", "t.id"),
        ("@MSTART", "t.meter_start"),
        ("@MSTOP", "t.meter_start + t.energy"),
    ):
        body = f"replace({body}, '{word}', {value})"
    message_id = "printf('%d', t.id * 16 + m.m)"
    db.execute(
        "INSERT INTO message_log (charger_id, direction, message_type, action, message_id,"
        " payload, error_code, transaction_id, timestamp)"
        f" SELECT t.charger, d.direction, d.type, m.action, {message_id},"
        f" '[' || d.type || ',\"' || {message_id} || '\",'"
        f" || CASE WHEN d.type = 2 THEN '\"' || m.action || '\",' ELSE '' END || {body} || ']',"
        " NULL, CASE WHEN m.linked THEN t.id END,"
        f" strftime({ISO}, {at} + d.delay, 'unixepoch')"
        " FROM fill_tx AS t, fill_step AS m, fill_direction AS d"
        # a running transaction has sent the frames of its first half only
        " WHERE t.id BETWEEN ?1 AND ?2 AND NOT (t.active AND m.frac > 0.5)"
        " ORDER BY t.id, m.m, d.type",
        (first, last, site.readings + 1),
    )


def _day_clock(db: sqlite3.Connection, site: Site, day: float) -> None:
    at = f"?1 + sl.s * {site.clock_minutes * 60}"
    energy = f"CAST(({at} - {day - site.days * 86400}) / 3600.0 * 2000 AS INT)"
    db.execute(
        "INSERT INTO meter_values (charger_id, connector_id, transaction_id, timestamp, value,"
        " measurand, unit, phase, location, context, format, source)"
        f" SELECT c.id, 0, NULL, strftime({ISO}, {at}, 'unixepoch'),"
        f" CASE WHEN s.k <= 1 THEN printf('%d', {energy} / (1 + s.k * 9))"
        " ELSE printf('%.1f', s.base * (0.9 + ((c.n * 31 + sl.s * 7 + s.k) % 20) / 100.0)) END,"
        " s.measurand, s.unit, s.phase, s.location, 'Sample.Clock', NULL, 'MeterValues'"
        " FROM fill_slot AS sl, fill_charger AS c, fill_clock AS s ORDER BY sl.s, c.n, s.k",
        (day,),
    )
    samples = ",".join(
        f'{{"value":"1","context":"Sample.Clock","measurand":"{m}",'
        + (f'"phase":"{p}",' if p else "")
        + f'"location":"{loc}","unit":"{u}"}}'
        for m, u, p, loc, _ in CLOCK
    )
    call = f'{{"connectorId":0,"meterValue":[{{"timestamp":"@TS","sampledValue":[{samples}]}}]}}'
    db.execute(
        "INSERT INTO message_log (charger_id, direction, message_type, action, message_id,"
        " payload, error_code, transaction_id, timestamp)"
        " SELECT c.id, d.direction, d.type, 'MeterValues', 'c' || printf('%d', sl.s) || '-' || ?2,"
        " '[' || d.type || ',\"c' || printf('%d', sl.s) || '-' || ?2 || '\",'"
        " || CASE WHEN d.type = 2 THEN '\"MeterValues\",' || replace(?3, '@TS',"
        f" strftime({ISO}, {at}, 'unixepoch')) ELSE '{{}}' END || ']',"
        f" NULL, NULL, strftime({ISO}, {at} + 0.05 + d.delay, 'unixepoch')"
        " FROM fill_slot AS sl, fill_charger AS c, fill_direction AS d ORDER BY sl.s, c.n, d.type",
        (day, int(day // 86400), call),
    )
