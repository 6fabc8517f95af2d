"""Faulty charger behaviours: parsing, what each does to the frames, and each against our CSMS
(which must stay up, answer right and store nothing twice)."""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from csms import CsmsApp
from ocppj import V16, CallTimeout
from simulator import ChargePoint, Faults, Fleet, FleetOptions, NotConnected, create_charge_point
from simulator.cli import register
from simulator.faults import FaultyTransport
from simulator.fleet import summary
from tests.conftest import csms_config, eventually

from .conftest import fast_spec


class Wire:
    """A transport that records what is sent."""

    def __init__(self) -> None:
        self.sent: list[list[Any]] = []

    async def recv(self) -> str:
        raise AssertionError("not used")

    async def send(self, message: str) -> None:
        self.sent.append(json.loads(message))


def faulty(**faults: Any) -> tuple[FaultyTransport, Wire]:
    wire = Wire()
    return FaultyTransport(wire, Faults(**faults), random.Random(1), dialect=V16), wire


# -- parsing -----------------------------------------------------------------------------------


def test_parse_every_fault() -> None:
    faults = Faults.parse("duplicate, wrong-ids=0.5,clock-drift=-90,schema=0.2,storm=5,seed=7")
    assert faults == Faults(1.0, 0.5, -90.0, 0.2, 5, 7)
    assert faults.active and not Faults().active and not Faults.parse("").active


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explode", "unknown fault 'explode'"),
        ("storm", "needs a value"),
        ("duplicate=2", "share from 0 to 1"),
        ("storm=-1", "count of extra Heartbeats"),
        ("schema=lots", "not a number"),
    ],
)
def test_parse_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults.parse(text)


def test_cli_flag_on_run_and_fleet() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sim", "fleet", "--faults", "duplicate=0.1,storm=2"])
    assert args.faults == Faults(duplicate=0.1, storm=2)
    assert parser.parse_args(["sim", "run"]).faults == Faults()
    with pytest.raises(SystemExit):
        parser.parse_args(["sim", "run", "--faults", "nonsense"])


# -- what each fault does to the frames ----------------------------------------------------------


async def test_duplicate_sends_a_call_twice_with_its_id() -> None:
    transport, wire = faulty(duplicate=1.0)
    await transport.send('[2,"m1","Heartbeat",{}]')
    await transport.send('[3,"c1",{}]')  # answers are not duplicated
    assert wire.sent == [[2, "m1", "Heartbeat", {}]] * 2 + [[3, "c1", {}]]
    assert transport.injected == {"duplicate": 1}


async def test_wrong_ids_change_the_id_of_answers_only() -> None:
    transport, wire = faulty(wrong_ids=1.0)
    await transport.send('[3,"c1",{"status":"Accepted"}]')
    await transport.send('[4,"c2","NotSupported","",{}]')
    await transport.send('[2,"m1","Heartbeat",{}]')
    assert [f[1] for f in wire.sent] == ["wrong-1", "wrong-2", "m1"]


async def test_clock_drift_moves_every_timestamp() -> None:
    transport, wire = faulty(clock_drift_s=3600)
    payload = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2026-11-24T10:00:00Z", "sampledValue": [{"value": "1"}]}],
    }
    await transport.send(json.dumps([2, "m1", "MeterValues", payload]))
    assert wire.sent[0][3]["meterValue"][0]["timestamp"] == "2026-11-24T11:00:00.000Z"


async def test_schema_violation_drops_a_required_field_or_adds_one() -> None:
    transport, wire = faulty(schema_violations=1.0)
    start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-11-24T10:00Z"}
    await transport.send(json.dumps([2, "m1", "StartTransaction", start]))
    await transport.send('[2,"m2","Heartbeat",{}]')
    assert len(wire.sent[0][3]) == 3 and set(wire.sent[0][3]) < set(start)
    assert wire.sent[1][3] == {"faultInjected": True}


async def test_storm_follows_each_call_with_heartbeats() -> None:
    transport, wire = faulty(storm=3)
    await transport.send('[2,"m1","Heartbeat",{}]')
    assert [f[1] for f in wire.sent] == ["m1", "storm-1", "storm-2", "storm-3"]


async def test_seeded_faults_repeat() -> None:
    def run() -> list[bool]:
        rng = Faults(duplicate=0.5, seed=3).rng("CP-1")
        return [rng.random() < 0.5 for _ in range(20)]

    assert run() == run()


# -- each fault against our CSMS -----------------------------------------------------------------


@pytest.fixture
async def csms(tmp_path: Path) -> AsyncIterator[CsmsApp]:
    async with CsmsApp(csms_config(tmp_path, auto_register=True, call_timeout=0.5)) as app:
        await app.services.authorization.tags.upsert("TAG")
        yield app


async def charge_point(app: CsmsApp, faults: Faults, identity: str = "CP-F") -> ChargePoint:
    cp = create_charge_point(fast_spec(identity, faults=faults), app.ocpp_url)
    await cp.start(timeout=5)
    return cp


async def test_duplicated_start_and_stop_store_one_transaction(csms: CsmsApp) -> None:
    cp = await charge_point(csms, Faults(duplicate=1.0))
    await cp.plug_in(1)
    await cp.present_tag(1, "TAG")
    await cp.stop_charging(1)
    await cp.close()
    assert cp.faults_injected["duplicate"] >= 4
    store = csms.services.transactions.transactions
    [row] = await store.find(charger_id="CP-F")
    assert row["status"] == "Completed"
    out = await csms.services.log.query("CP-F", action="StartTransaction", direction="out")
    answers = [json.loads(r["payload"]) for r in out]
    assert len(answers) == 2 and answers[0] == answers[1]  # the same transactionId twice
    # the repeated stop is recorded, not applied twice
    events = await csms.services.chargers.store.events("CP-F", "Anomaly")
    assert [e["detail"] for e in events] == ["stop for a transaction already stopped"]


async def test_clock_drift_is_stored_as_sent(csms: CsmsApp) -> None:
    cp = await charge_point(csms, Faults(clock_drift_s=7200))
    await cp.plug_in(1)
    await cp.present_tag(1, "TAG")
    await cp.close()
    [row] = await csms.services.transactions.transactions.find(charger_id="CP-F")
    started = datetime.fromisoformat(row["start_timestamp"].replace("Z", "+00:00"))
    ahead = (started - datetime.now(UTC)).total_seconds()
    assert 7100 < ahead < 7300


async def test_schema_violations_keep_the_boot_from_being_accepted(csms: CsmsApp) -> None:
    cp = create_charge_point(fast_spec("CP-F", faults=Faults(schema_violations=1.0)), csms.ocpp_url)
    with pytest.raises(NotConnected, match="not booted"):
        await cp.start(timeout=1)
    await cp.close()
    assert cp.faults_injected["schema_violation"] >= 2  # it retried
    log = await csms.services.log.query("CP-F", action="BootNotification", direction="out")
    assert log and {r["error_code"] for r in log} == {"OccurenceConstraintViolation"}


async def test_storm_is_answered_in_full(csms: CsmsApp) -> None:
    cp = await charge_point(csms, Faults(storm=20))
    calm = await charge_point(csms, Faults(), identity="CP-CALM")
    await cp.plug_in(1)  # a StatusNotification, and 20 more Heartbeats
    await cp.close()
    log = await csms.services.log.query("CP-F", action="Heartbeat", direction="out", limit=1000)
    storm_answers = [r for r in log if r["message_id"].startswith("storm-")]
    assert len(storm_answers) == cp.faults_injected["storm_heartbeat"] >= 40
    assert all(r["message_type"] == 3 for r in storm_answers)
    await calm.plug_in(1)
    await calm.close()


async def test_answers_with_wrong_ids_time_out_at_the_csms(csms: CsmsApp) -> None:
    cp = await charge_point(csms, Faults(wrong_ids=1.0))
    connection = csms.registry.get("CP-F")
    assert connection is not None
    with pytest.raises(CallTimeout):
        await connection.call("GetConfiguration", {}, timeout=0.5)
    log = await csms.services.log.query("CP-F", direction="in")
    assert any(r["message_id"].startswith("wrong-") for r in log)
    await cp.plug_in(1)  # the charger's own calls still work
    await cp.close()

    async def offline() -> bool:
        row = await csms.services.chargers.store.get("CP-F")
        return row is not None and row["online"] == 0

    await eventually(offline)


async def test_fleet_with_faults_reports_them(csms: CsmsApp) -> None:
    options = FleetOptions(url=csms.ocpp_url, count=3, rate=100.0, faults=Faults(storm=2))
    fleet = Fleet(options)
    await fleet.run(duration=0.5)
    assert [cp.registration for cp in fleet.charge_points] == ["Accepted"] * 3
    lines = summary(fleet, 0.5)
    assert "faults injected:" in lines
    [storm] = [line for line in lines if "storm_heartbeat" in line]
    assert int(storm.split()[-1]) >= 3 * 2  # at least each boot's storm
