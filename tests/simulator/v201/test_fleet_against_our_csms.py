"""A fleet of our 2.0.1 stations on the charging profile against our own CSMS (real SQLite,
loopback, port 0): every session stored as the stations told it, no error on either side."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from csms import CsmsApp
from simulator import Fleet, FleetOptions
from simulator.fleet import summary
from simulator.spec import ChargePointSpec
from tests.conftest import csms_config, eventually

STATIONS = 4
SESSIONS = 2  # transactions each station ends before the stop (and one more the stop ends)
IDS = [f"FL201-{n}" for n in range(1, STATIONS + 1)]


def quick(spec: ChargePointSpec) -> None:
    """The device model's seconds as fifths of a second: a TxUpdatedInterval of 1 is an
    Updated TransactionEvent every 0.2 s."""
    spec.time_scale = 0.2
    spec.boot_retry_s = 0.1
    spec.call_timeout_s = 5.0


async def test_a_fleet_of_2_0_1_stations_charges_with_no_error(tmp_path: Path) -> None:
    async with CsmsApp(csms_config(tmp_path)) as app:
        for n, identity in enumerate(IDS, start=1):
            await app.services.chargers.register(identity)
            await app.services.tags.upsert(f"FLEET-{n:05d}")  # FleetOptions.id_tag
        options = FleetOptions(
            url=app.ocpp_url,
            count=STATIONS,
            rate=100,
            id_pattern="FL201-{n}",
            profile="charging",
            charge_s=1.0,
            pause_s=0.1,
            meter_interval_s=1,
            ocpp_version="2.0.1",
        )
        fleet = Fleet(options, spec_hook=quick)
        runner = asyncio.create_task(fleet.run(duration=60))

        async def sessions_ended() -> bool:
            """each station has ended SESSIONS transactions (or the fleet ended)"""
            return await _stations_with(app, "Completed", SESSIONS) == set(IDS) or runner.done()

        async def sessions_open() -> bool:
            """each station has a transaction open, for the stop to end"""
            return await _stations_with(app, "Active", 1) == set(IDS) or runner.done()

        try:
            await eventually(sessions_ended, timeout=30)
            await eventually(sessions_open, timeout=10)
            for identity in IDS:  # each served by the 2.0.1 adapter
                live = app.registry.get(identity)
                assert live is not None and live.adapter.dialect.version == "2.0.1"
        finally:
            fleet.stop()
            stats = await asyncio.wait_for(runner, 15)

        text = "\n".join(summary(fleet, 0.0))
        assert not stats.errors, text
        assert "errors: none" in text and "internal errors" not in text, text
        assert [cp.registration for cp in fleet.charge_points] == ["Accepted"] * STATIONS
        for identity in IDS:
            charger = await app.services.chargers.get(identity)
            assert charger is not None and charger["boot_accepted"], charger

        db = app.services.db
        transactions = await db.fetch_all("SELECT * FROM transactions ORDER BY id")
        assert len(transactions) >= STATIONS * (SESSIONS + 1)
        assert [t for t in transactions if t["status"] != "Completed"] == []
        assert all(t["stop_reason"] == "Local" for t in transactions)
        assert all(t["meter_stop"] >= t["meter_start"] for t in transactions)
        assert sum(t["meter_stop"] - t["meter_start"] for t in transactions) > 0

        # stored under the transaction ids the stations sent, one record each
        sent: dict[str, set[str]] = {identity: set() for identity in IDS}
        kinds: set[str] = set()
        for identity in IDS:
            log = await app.services.log.query(
                identity, action="TransactionEvent", direction="in", limit=10_000
            )
            for entry in log:
                payload = _payload(entry["payload"])
                kinds.add(payload["eventType"])
                sent[identity].add(payload["transactionInfo"]["transactionId"])
        assert kinds == {"Started", "Updated", "Ended"}
        stored: dict[str, list[str]] = {identity: [] for identity in IDS}
        for t in transactions:
            stored[t["charger_id"]].append(t["station_transaction_id"])
        assert {identity: set(ids) for identity, ids in stored.items()} == sent
        assert sum(len(ids) for ids in stored.values()) == len(transactions)  # no duplicates

        events = await db.fetch_all(
            "SELECT event_type, COUNT(*) AS n FROM transaction_events GROUP BY event_type"
        )
        counts = {e["event_type"]: e["n"] for e in events}
        assert counts["Started"] == counts["Ended"] == len(transactions), counts
        assert counts["Updated"] >= STATIONS * SESSIONS, counts
        assert stats.messages["TransactionEvent"] == sum(counts.values())  # each applied once
        for t in transactions:
            assert await app.services.transactions.missing_events(int(t["id"])) == []
            samples = await app.services.transactions.samples(int(t["id"]))
            assert {s["source"] for s in samples} == {"TransactionEvent"}, t
            contexts = {s["context"] for s in samples}
            assert {"Transaction.Begin", "Transaction.End"} <= contexts, t

        # and nothing the CSMS found wrong: no CALLERROR sent, no anomaly recorded
        for identity in IDS:
            out = await app.services.log.query(identity, direction="out", limit=10_000)
            assert [r for r in out if r["message_type"] == 4] == [], identity
            assert await app.services.chargers.store.events(identity, "Anomaly") == []


async def _stations_with(app: CsmsApp, status: str, count: int) -> set[str]:
    """The stations with at least `count` transactions in `status`."""
    rows = await app.services.db.fetch_all(
        "SELECT charger_id FROM transactions WHERE status = ? GROUP BY charger_id"
        " HAVING COUNT(*) >= ?",
        (status, count),
    )
    return {row["charger_id"] for row in rows}


def _payload(frame: str) -> dict[str, Any]:
    """The payload of a logged CALL frame."""
    message = json.loads(frame)
    assert isinstance(message, list) and message[0] == 2, frame
    payload: dict[str, Any] = message[3]
    return payload
