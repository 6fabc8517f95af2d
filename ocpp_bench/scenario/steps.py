"""The step vocabulary: running each step (checking it when its file loads is checks.py).

A step is a mapping with one kind key (`plug_in: {connector: 1}`) and an optional `cp:` naming
the charge point it acts on (default: the scenario's first).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ocppj.errors import CallErrorReceived, CallTimeout, OcppError, RpcError

from .checks import KINDS
from .matchers import mismatches
from .outcomes import ScenarioBug, StepFailed
from .variables import Variables, dig

if TYPE_CHECKING:
    from .charge_point import SimulatedChargePoint
    from .drivers import CsmsDriver
    from .loader import Step


class Run(Protocol):
    """What a step needs of the run it is part of (the runner's Run)."""

    timeout: float
    variables: Variables
    driver: CsmsDriver

    def cp(self, step: Step | None = None) -> SimulatedChargePoint: ...


Runner = Callable[[Run, "Step", Any], Awaitable[None]]


def expect(what: str, expected: Any, actual: Any) -> None:
    problems = mismatches(expected, actual)
    if problems:
        raise StepFailed(
            f"{what} does not match",
            "\n".join(["  " + p for p in problems]) + f"\n  got: {actual!r}",
        )


def save(run: Run, saves: dict[str, str] | None, data: Any) -> None:
    for name, path in (saves or {}).items():
        try:
            run.variables[name] = dig(data, path)
        except KeyError as exc:
            raise StepFailed(f"cannot save {name}: {exc}") from exc


# -- charge point behaviour ----------------------------------------------------------------


def _connector(args: Any) -> int:
    return int((args or {}).get("connector", 1))


async def boot(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    result = await run.cp(step).boot(timeout=args.get("timeout", run.timeout))
    if "expect" in args:
        expect("BootNotification answer", args["expect"], result)


async def plug_in(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).station.plug_in(_connector(args))


async def unplug(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).station.unplug(_connector(args))


async def present_tag(run: Run, step: Step, args: Any) -> None:
    info = dict(await run.cp(step).station.present_tag(_connector(args), args["tag"]))
    if "expect" in args:
        expect("idTagInfo", args["expect"], info)


async def cache_tag(run: Run, step: Step, args: Any) -> None:
    station = run.cp(step).station
    station.cache_tag(args["tag"], args.get("status", "Accepted"), args.get("expiry"))


async def stop_charging(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    station = run.cp(step).station
    await station.stop_charging(_connector(args), args.get("reason", "Local"), args.get("tag"))


async def charge(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).charge(_connector(args), float(args["seconds"]))


async def suspend(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).station.suspend(_connector(args), args["side"].upper())


async def resume(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).station.resume(_connector(args))


async def fault(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    await run.cp(step).station.fault(_connector(args), args.get("error_code", "InternalError"))


async def clear_fault(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).station.clear_fault(_connector(args))


async def go_offline(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).station.go_offline()


async def go_online(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).station.go_online(run.timeout)


async def hold_queue(run: Run, step: Step, args: Any) -> None:
    run.cp(step).station.hold_queue()


async def release_queue(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    action, request = args.get("action"), args.get("request")
    if action is None and request is None:
        run.cp(step).station.release_queue()
        return

    def pick(queued: str, payload: dict[str, Any]) -> bool:
        return (action is None or queued == action) and not mismatches(request or {}, payload)

    run.cp(step).station.release_queue(pick)


async def reboot(run: Run, step: Step, args: Any) -> None:
    kind = (args or {}).get("type", "soft").capitalize()
    await run.cp(step).station.reboot(kind, run.timeout)


async def power_loss(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).station.power_loss(run.timeout)


async def configure(run: Run, step: Step, args: Any) -> None:
    run.cp(step).station.configure({key: str(value) for key, value in args.items()})


async def outcome(run: Run, step: Step, args: Any) -> None:
    run.cp(step).set_outcome(
        args["action"], args.get("reply"), args.get("error"), args.get("status")
    )


# -- raw messages ----------------------------------------------------------------------------


async def send(run: Run, step: Step, args: Any) -> None:
    cp = run.cp(step)
    timeout = args.get("timeout", run.timeout)
    try:
        result = await cp.send(
            args["action"], args.get("payload", {}), raw=args.get("raw", False), timeout=timeout
        )
    except CallErrorReceived as exc:
        if "expect_error" not in args:
            raise StepFailed(
                f"{args['action']} got CALLERROR {exc.code}: {exc.description}"
            ) from exc
        cp.excuse_sent(args["action"])  # the step is about this CALLERROR
        error = {"code": exc.code, "description": exc.description, "details": exc.details}
        expect(f"{args['action']} CALLERROR", args["expect_error"], error)
        return
    except CallTimeout as exc:
        raise StepFailed(f"{args['action']}: no answer within {timeout:g} s") from exc
    except OcppError as exc:  # ours: the payload, its variables resolved, breaks the schema
        raise ScenarioBug(
            f"send: the {args['action']} payload breaks the OCPP {cp.station.dialect.version} "
            "schema: "
            f"{exc.description}; fix it, or add raw: true to send it as it is"
        ) from exc
    if "expect_error" in args:
        raise StepFailed(f"{args['action']}: expected a CALLERROR, got CALLRESULT {result!r}")
    if "expect" in args:
        expect(f"{args['action']} answer", args["expect"], result)
    save(run, args.get("save"), result)


async def expect_call(run: Run, step: Step, args: Any) -> None:
    timeout = args.get("timeout", run.timeout)
    scripted = "reply" in args or "error" in args
    cp = run.cp(step)
    wait = cp.hold_call if scripted else cp.expect_call
    incoming = await wait(args["action"], timeout)
    if incoming is None:
        raise StepFailed(f"no {args['action']} from the CSMS within {timeout:g} s")
    if "payload" in args:
        expect(f"{args['action']} payload", args["payload"], incoming.payload)
    save(run, args.get("save"), incoming.payload)
    await incoming.answer(args.get("reply"), args.get("error"))
    if "response" in args:
        if scripted:
            raise ScenarioBug("`response` checks the charge point's own answer: drop reply/error")
        expect(f"the charge point's {args['action']} answer", args["response"], incoming.response)


async def expect_no_call(run: Run, step: Step, args: Any) -> None:
    arrived = await run.cp(step).next_call(args.get("action"), float(args["within"]))
    if arrived is not None:
        raise StepFailed(f"unexpected {arrived.action} from the CSMS: {arrived.payload!r}")


async def expect_sent(run: Run, step: Step, args: Any) -> None:
    timeout = args.get("timeout", run.timeout)
    cp = run.cp(step)
    exchange = await cp.expect_sent(args["action"], timeout, args.get("request"))
    if exchange is None:
        sent = cp.sent(args["action"])
        detail = "\n".join(f"  sent: {payload!r}" for payload in sent[-5:])
        matching = " matching the request" if "request" in args else ""
        raise StepFailed(
            f"the charge point sent no {args['action']}{matching} within {timeout:g} s",
            detail or f"  no {args['action']} was sent at all",
        )
    request, response = exchange
    if isinstance(args.get("response"), dict) and "callError" in args["response"]:
        cp.excuse_claimed()  # this step is about the CALLERROR
    if "response" in args:
        expect(f"{args['action']} response", args["response"], response)
    save(run, args.get("save"), {"request": request, "response": response})


async def expect_not_sent(run: Run, step: Step, args: Any) -> None:
    within = float(args["within"])
    payload = await run.cp(step).sent_within(args["action"], args.get("request"), within)
    if payload is not None:
        raise StepFailed(
            f"the charge point sent {args['action']} within {within:g} s", f"  sent: {payload!r}"
        )


async def expect_status(run: Run, step: Step, args: Any) -> None:
    timeout = args.get("timeout", run.timeout)
    connector = int(args.get("connector", 1))
    reached = await run.cp(step).wait_status(connector, args["status"], timeout)
    if not reached:
        raise StepFailed(
            f"connector {connector} did not reach {args['status']} within {timeout:g} s",
            f"  its status: {run.cp(step).station.status(connector)}",
        )


# -- the connection --------------------------------------------------------------------------


async def connect(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    cp = run.cp(step)
    result = await cp.connect(
        list(args.get("subprotocols", [cp.station.dialect.subprotocol])),
        args.get("profile"),
        args.get("timeout", run.timeout),
        username=args.get("username"),
        tls=args.get("tls"),
    )
    if "expect" in args:
        expect("connection attempt", args["expect"], result)
    save(run, args.get("save"), result)


async def expect_connected(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    timeout = args.get("timeout", run.timeout)
    problem = await run.cp(step).wait_connected(args.get("profile"), timeout)
    if problem is not None:
        wanted = f" with security profile {args['profile']}" if "profile" in args else ""
        raise StepFailed(f"the charge point is not connected{wanted} within {timeout:g} s", problem)


# -- the CSMS, variables, time ---------------------------------------------------------------


async def csms(run: Run, step: Step, args: Any) -> None:
    """Make the CSMS send an operation, and verify it where it must arrive: the CALL, with a
    payload matching the step's, reaches the charge point, whose answer `expect` checks; an
    answer from the driver (an API) must be that same answer."""
    from .drivers import DriverError

    cp = run.cp(step)
    action, payload = args["action"], args.get("payload", {})
    timeout = args.get("timeout", run.timeout)
    watch = cp.watch_call(action, payload)
    try:
        try:
            result = await run.driver.call(cp.identity, action, payload, timeout)
        except (DriverError, RpcError) as exc:
            answer = await watch.arrived(0.1)  # it may have arrived and been refused
            if answer is None or "callError" not in answer:
                raise StepFailed(f"CSMS {action} failed: {exc}") from exc
            result = answer
        answer = await watch.arrived(run.driver.arrival_timeout(timeout))
    finally:
        watch.cancel()
    if answer is None:
        seen = "".join(f"\n  arrived with another payload: {p!r}" for p in watch.others[-3:])
        raise StepFailed(
            f"the charge point received no {action} matching the step's payload "
            f"({run.driver.name} driver)",
            f"  wanted: {payload!r}{seen}",
        )
    if "expect" in args:
        expect(f"the charge point's {action} answer", args["expect"], answer)
    if result is not None and result != answer:
        raise StepFailed(
            f"the CSMS reported another {action} answer than the charge point gave",
            f"  the charge point answered: {answer!r}\n  the CSMS ({run.driver.name}) "
            f"reported: {result!r}",
        )
    save(run, args.get("save"), answer)


async def register(run: Run, step: Step, args: Any) -> None:
    from .drivers import DriverError

    cp = run.cp(step)
    try:
        await run.driver.set_registration(cp.identity, args["registration"])
    except DriverError as exc:
        what = f"the CSMS could not take registration {args['registration']}: {exc}"
        raise StepFailed(what) from exc


async def wait(run: Run, step: Step, args: Any) -> None:
    await asyncio.sleep(float(args))


async def set_variables(run: Run, step: Step, args: Any) -> None:
    run.variables.update(args)


async def assert_value(run: Run, step: Step, args: Any) -> None:
    expect("value", args["matches"], args["value"])


RUNNERS: dict[str, Runner] = {
    "boot": boot,
    "plug_in": plug_in,
    "unplug": unplug,
    "present_tag": present_tag,
    "cache_tag": cache_tag,
    "stop_charging": stop_charging,
    "charge": charge,
    "suspend": suspend,
    "resume": resume,
    "fault": fault,
    "clear_fault": clear_fault,
    "go_offline": go_offline,
    "go_online": go_online,
    "hold_queue": hold_queue,
    "release_queue": release_queue,
    "reboot": reboot,
    "power_loss": power_loss,
    "configure": configure,
    "outcome": outcome,
    "send": send,
    "expect_call": expect_call,
    "expect_no_call": expect_no_call,
    "expect_sent": expect_sent,
    "expect_not_sent": expect_not_sent,
    "expect_status": expect_status,
    "connect": connect,
    "expect_connected": expect_connected,
    "csms": csms,
    "register": register,
    "wait": wait,
    "set": set_variables,
    "assert": assert_value,
}
assert set(RUNNERS) == set(KINDS), set(RUNNERS) ^ set(KINDS)
