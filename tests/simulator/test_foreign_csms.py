"""The simulator against a third-party-style CSMS (`foreign.ForeignCsms`, written with the
`ocpp` library): a route with a trailing slash, reached through a URL template, and actions
answered CALLERROR NotImplemented, which cost the charge point nothing but a count."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable

from ocpp_bench.scenario.charge_point import charge_point_factory
from simulator import ChargePoint, Endpoints, create_charge_point, endpoint
from simulator.fleet import Fleet, FleetOptions, summary
from tests.conftest import eventually

from .conftest import MiniCsms, fast_spec
from .foreign import ForeignCsms
from .test_cli import ENV

SIM = [sys.executable, "-m", "ocpp_bench.cli", "sim"]


def test_the_identity_goes_where_the_template_says_or_at_the_end() -> None:
    assert endpoint("ws://h/ws/ocpp/{id}/", "CP 1") == "ws://h/ws/ocpp/CP%201/"
    assert endpoint("ws://h/{id}/ocpp?x=1", "CP-1") == "ws://h/CP-1/ocpp?x=1"
    assert endpoint("ws://h/ocpp", "CP-1") == "ws://h/ocpp/CP-1"
    assert endpoint("ws://h/ocpp/", "CP/1") == "ws://h/ocpp/CP%2F1"


async def test_a_template_reaches_a_trailing_slash_route_and_the_transcript_says_where() -> None:
    with ForeignCsms(implements=["StatusNotification"]) as csms:
        cp = create_charge_point(fast_spec("TPL-1"), csms.template)
        async with cp:
            assert cp.registration == "Accepted"
        assert csms.paths == ["/ws/ocpp/TPL-1/"]
    links = [e.text for e in cp.transcript if e.direction == "link"]
    port = csms.template.split(":")[2].split("/")[0]
    assert links[0] == f"connected to ws://127.0.0.1:{port}/ws/ocpp/TPL-1/"


async def test_sim_run_and_sim_fleet_take_a_template() -> None:
    with ForeignCsms(implements=["StatusNotification", "Heartbeat"]) as csms:
        run = await asyncio.create_subprocess_exec(
            *(*SIM, "run", "--url", csms.template, "--id", "RUN-T", "--no-input"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=ENV,
        )
        fleet = await asyncio.create_subprocess_exec(
            *(*SIM, "fleet", "--url", csms.template, "--count", "2", "--rate", "100"),
            *("--id-pattern", "FLEET-T{n}"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=ENV,
        )
        try:
            wanted = {"RUN-T", "FLEET-T1", "FLEET-T2"}
            await csms.until(
                lambda c: all(c.count(i, "StatusNotification") >= 2 for i in wanted),
                20,
                "every charge point booted and reported its connectors",
            )
            run.send_signal(signal.SIGTERM)
            fleet.send_signal(signal.SIGINT)
            run_out, run_err = await asyncio.wait_for(run.communicate(), 15)
            fleet_out, fleet_err = await asyncio.wait_for(fleet.communicate(), 15)
        finally:
            for process in (run, fleet):
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        assert sorted(csms.paths) == sorted(f"/ws/ocpp/{i}/" for i in wanted)
    assert run.returncode == 0, run_err.decode()
    assert f"connected to {endpoint(csms.template, 'RUN-T')}" in run_out.decode()
    assert fleet.returncode == 0, fleet_err.decode()
    assert "boots accepted: 2" in fleet_out.decode()


async def test_a_scenario_charge_point_boots_and_probes_through_a_template() -> None:
    with ForeignCsms(implements=["StatusNotification"]) as csms:
        cp = charge_point_factory(Endpoints({1: csms.template}))("SCN-T", {})
        try:
            answer = await cp.boot(5)
            assert answer["status"] == "Accepted"
            handshake = await cp.connect(["ocpp1.6"], None, 5)
        finally:
            await cp.close()
        assert handshake["accepted"] is True and handshake["status"] == 101
        assert csms.paths == ["/ws/ocpp/SCN-T/"] * 2


def _answered_heartbeats(cp: ChargePoint) -> int:
    return sum(1 for e in cp.transcript if e.kind == "CALLERROR" and e.action == "Heartbeat")


async def test_a_callerror_to_a_heartbeat_costs_the_link_nothing() -> None:
    """Heartbeat answered NotImplemented, again and again: one connection throughout."""
    with ForeignCsms(interval=1) as csms:  # a heartbeat every 1 s x time_scale
        cp = create_charge_point(fast_spec("HB-1", time_scale=0.02), csms.template)
        async with cp:
            await cp.transcript.wait_for(
                lambda _: _answered_heartbeats(cp) >= 5, 10, what="5 Heartbeats refused"
            )
            assert cp.connected
        assert csms.connections == ["HB-1"]
    assert sum(1 for e in cp.transcript if e.text.startswith("connected to")) == 1


async def test_a_fleet_counts_refused_heartbeats_and_keeps_its_links() -> None:
    with ForeignCsms(interval=1) as csms:
        options = FleetOptions(url=csms.template, count=3, rate=100, id_pattern="HBF-{n}")
        fleet = Fleet(options, spec_hook=lambda spec: setattr(spec, "time_scale", 0.02))
        await run_until(fleet, lambda: _at_least(fleet, "Heartbeat:NotImplemented", 15))
        assert sorted(csms.connections) == ["HBF-1", "HBF-2", "HBF-3"]
    text = "\n".join(summary(fleet, 1.0))
    assert "Heartbeat:NotImplemented" in text
    assert "connect:" not in text  # never a reconnect


async def run_until(fleet: Fleet, check: Callable[[], Awaitable[bool]]) -> None:
    """Run `fleet` until `check()` holds (10 s at most, then fail), and stop it."""
    runner = asyncio.create_task(fleet.run())
    try:
        await eventually(check, 10)
    finally:
        fleet.stop()
        await runner


async def _at_least(fleet: Fleet, kind: str, count: int) -> bool:
    return fleet.stats.errors[kind] >= count


async def test_a_fleet_counts_each_error_once() -> None:
    """Authorize answered NotImplemented: one error per refused Authorize, not one more for
    the session it ended."""
    with ForeignCsms(implements=["StatusNotification", "Heartbeat"]) as csms:
        options = FleetOptions(
            url=csms.template,
            count=2,
            rate=100,
            id_pattern="AUF-{n}",
            profile="charging",
            charge_s=0.05,
            pause_s=0.05,
        )
        fleet = Fleet(options)
        await run_until(fleet, lambda: _at_least(fleet, "Authorize:NotImplemented", 4))
        refused = sum(csms.count(f"AUF-{n}", "Authorize") for n in (1, 2))
    assert set(fleet.stats.errors) == {"Authorize:NotImplemented"}  # no "session:..." too
    # at most one per refusal (the last may be cut short by the stop: its answer not awaited)
    assert 4 <= fleet.stats.errors["Authorize:NotImplemented"] <= refused


async def test_a_fleet_summary_counts_the_links_up_when_it_stopped(csms: MiniCsms) -> None:
    fleet = Fleet(FleetOptions(url=csms.url, count=2, rate=100, id_pattern="UP-{n}"))
    await run_until(fleet, lambda: _accepted(fleet, 2))
    assert fleet.connected == 0  # all closed by now
    assert "charge points: 2  connected: 2  boots accepted: 2" in summary(fleet, 1.0)[0]


async def _accepted(fleet: Fleet, count: int) -> bool:
    return fleet.accepted >= count


async def test_a_handshake_without_an_http_answer_is_explained() -> None:
    """A server that closes the socket before answering the handshake (websockets'
    InvalidMessage): the summary says so, not just the exception's name."""

    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    fleet = Fleet(FleetOptions(url=f"ws://127.0.0.1:{port}/ocpp", count=1, id_pattern="EOF-{n}"))
    try:
        await run_until(fleet, lambda: _failed(fleet))
    finally:
        server.close()
    text = "\n".join(summary(fleet, 1.0))
    assert "connect:no HTTP answer: the connection closed during the handshake" in text, text
    assert "InvalidMessage" not in text


async def _failed(fleet: Fleet) -> bool:
    return any(kind.startswith("connect:") for kind in fleet.stats.errors)
