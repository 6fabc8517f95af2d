"""An internal error of the simulator (a bug), whatever the CSMS sent, costs one answer or one
piece of follow-up work: it is logged and kept in `cp.failures`, the charge point stays
connected and usable, and in a fleet the others go on and the summary names it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ocpp.exceptions import InternalError
from ocpp.v16 import call

from simulator import ChargePoint, SimulatorError
from simulator.fleet import Fleet, FleetOptions, summary

from .conftest import MiniCsms, StartCp


def broken(*_: Any) -> Any:
    raise KeyError("a bug")


async def broken_later(*_: Any) -> None:
    raise KeyError("a bug")


async def test_a_handler_bug_is_one_internal_error_and_the_link_lives_on(
    csms: MiniCsms, start_cp: StartCp, monkeypatch: pytest.MonkeyPatch
) -> None:
    cp = await start_cp("CP-BUG")
    # an instance attribute: this charger only
    monkeypatch.setattr(cp.behaviour.core, "op_ClearCache", broken)
    with pytest.raises(InternalError):
        await csms.call("CP-BUG", call.ClearCache())
    assert [type(e) for e in cp.failures] == [KeyError]
    seen = await cp.expect_call("ClearCache", timeout=1)
    assert seen.error is not None and seen.error.code == "InternalError"
    assert cp.connected
    answer = await csms.call("CP-BUG", call.GetLocalListVersion())  # still answering
    assert answer.list_version == 0
    cp.failures.clear()  # seen: close() would raise it otherwise


async def test_a_follow_up_bug_is_recorded_and_the_charge_point_carries_on(
    csms: MiniCsms, start_cp: StartCp, monkeypatch: pytest.MonkeyPatch
) -> None:
    cp = await start_cp("CP-BUG-AFTER")
    for bug in (broken, broken_later):  # failing to start, or failing when it runs
        monkeypatch.setattr(cp.behaviour.core, "_settle_all", bug)
        answer = await csms.call(
            "CP-BUG-AFTER", call.ChangeAvailability(connector_id=1, type="Inoperative")
        )
        assert answer.status == "Accepted"
    await _until(lambda: len(cp.failures) == 2)
    assert [type(e) for e in cp.failures] == [KeyError, KeyError]
    monkeypatch.undo()
    answer = await csms.call(
        "CP-BUG-AFTER", call.ChangeAvailability(connector_id=1, type="Inoperative")
    )
    assert answer.status == "Accepted"
    await cp.plug_in(1)  # the charge point is still usable
    await csms.wait_for("StatusNotification", lambda p: p["status"] == "Unavailable")
    with pytest.raises(SimulatorError, match="a background task failed"):
        await cp.close()  # one charge point on its own: close() says so
    cp.failures.clear()


async def test_a_fleet_goes_on_when_one_charge_point_has_a_bug(csms: MiniCsms) -> None:
    fleet = Fleet(FleetOptions(url=csms.url, count=3, rate=100, id_pattern="FB-{n}"))
    runner = asyncio.create_task(fleet.run())
    await _until(lambda: fleet.accepted == 3)
    first: ChargePoint = fleet.charge_points[0]
    first.behaviour.core.op_ClearCache = broken  # type: ignore[attr-defined]
    with pytest.raises(InternalError):
        await csms.call("FB-1", call.ClearCache())
    for identity in ("FB-1", "FB-2", "FB-3"):  # all still answer, the broken one too
        answer = await csms.call(identity, call.GetLocalListVersion())
        assert answer.list_version == 0
    fleet.stop()
    await asyncio.wait_for(runner, 10)  # no ExceptionGroup
    text = "\n".join(summary(fleet, 1.0))
    assert "internal errors (simulator bugs, see the log): 1 in 1 charge points" in text
    assert "first: FB-1: KeyError('a bug')" in text


async def _until(check: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"not reached within {timeout} s"
        await asyncio.sleep(0.01)
