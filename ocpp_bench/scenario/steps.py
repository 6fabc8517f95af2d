"""The step vocabulary: checking a step when a file loads, and running it.

A step is a mapping with one kind key (`plug_in: {connector: 1}`) and an optional `cp:` naming
the charge point it acts on (default: the scenario's first).
"""

from __future__ import annotations

import asyncio
import difflib
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema

from ocppj import V16
from ocppj.errors import CallErrorReceived, CallTimeout, OcppError, RpcError

from .loader import ScenarioError, Step, _line_of, _message, schema
from .matchers import mismatches
from .variables import dig

if TYPE_CHECKING:
    from .runner import Run

Runner = Callable[["Run", Step, Any], Awaitable[None]]
_SCHEMA = schema()
KINDS = sorted(_SCHEMA["definitions"]["steps"])


@functools.cache
def _validator(kind: str) -> Callable[[Any], Any]:
    """The step's schema, compiled the first time a step of its kind loads."""
    spec = _SCHEMA["definitions"]["steps"][kind]
    validate: Callable[[Any], Any] = fastjsonschema.compile(
        {"definitions": _SCHEMA["definitions"], **spec}
    )
    return validate


class ScenarioBug(Exception):
    """The scenario asks for something that cannot be: its author's to fix, not the CSMS's."""


class StepFailed(AssertionError):
    """A step's expectation did not hold; `detail` says what was expected and what came."""

    def __init__(self, message: str, detail: str = "") -> None:
        self.message = message
        self.detail = detail
        super().__init__(message + (f"\n{detail}" if detail else ""))


def check_step(path: Path, node: Any) -> tuple[str, Any, str | None]:
    line = getattr(node, "line", None)
    if not isinstance(node, dict):
        raise ScenarioError(
            path, line, f"a step is a mapping like 'plug_in: {{connector: 1}}', got {node!r}"
        )
    cp = node.get("cp")
    kinds = [key for key in node if key != "cp"]
    if len(kinds) != 1:
        raise ScenarioError(path, line, f"a step has exactly one kind, got {kinds or 'none'}")
    kind = kinds[0]
    if kind not in _SCHEMA["definitions"]["steps"]:
        raise ScenarioError(path, line, f"unknown step {kind!r}; known steps: {', '.join(KINDS)}")
    try:
        _validator(kind)(node[kind])
    except fastjsonschema.JsonSchemaValueException as exc:
        keys = [str(k) for k in (exc.path or [])[1:]]
        message = _message(exc, f"{kind}.")
        raise ScenarioError(path, _line_of(node, [kind, *keys]) or line, message) from exc
    problem = _action_problem(kind, node[kind])
    if problem is not None:
        raise ScenarioError(path, _line_of(node, [kind, "action"]) or line, problem)
    return kind, node[kind], cp


def _has_variables(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_has_variables(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_variables(item) for item in value)
    return False


def _action_problem(kind: str, args: Any) -> str | None:
    """An unknown action, or a `send` payload that breaks the schema (unless `raw`)."""
    if kind not in ("send", "csms", "expect_call", "expect_sent", "expect_not_sent", "outcome"):
        return None
    action = args["action"]
    if kind == "send" and args.get("raw"):
        return None
    if action not in V16.actions:
        close = difflib.get_close_matches(action, sorted(V16.actions), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raw = " (raw: true sends it as it is)" if kind == "send" else ""
        return f"{kind}: {action!r} is not an OCPP 1.6 action{hint}{raw}"
    payload = args.get("payload", {})
    if kind == "send" and not _has_variables(payload):
        try:
            V16.validate(action, payload)
        except OcppError as exc:
            return (
                f"send: the {action} payload breaks the OCPP 1.6 schema: {exc.description}; "
                "fix it, or add raw: true to send it as it is"
            )
    return None


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
    await run.cp(step).plug_in(_connector(args))


async def unplug(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).unplug(_connector(args))


async def present_tag(run: Run, step: Step, args: Any) -> None:
    info = await run.cp(step).present_tag(args["tag"], _connector(args))
    if "expect" in args:
        expect("idTagInfo", args["expect"], info)


async def stop_charging(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    await run.cp(step).stop_charging(_connector(args), args.get("reason", "Local"), args.get("tag"))


async def charge(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).charge(_connector(args), float(args["seconds"]))


async def suspend(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).suspend(_connector(args), args["side"])


async def resume(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).resume(_connector(args))


async def fault(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    await run.cp(step).fault(_connector(args), args.get("error_code", "InternalError"))


async def clear_fault(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).clear_fault(_connector(args))


async def go_offline(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).go_offline()


async def go_online(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).go_online(timeout=run.timeout)


async def reboot(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).reboot((args or {}).get("type", "soft"), timeout=run.timeout)


async def power_loss(run: Run, step: Step, args: Any) -> None:
    await run.cp(step).power_loss(timeout=run.timeout)


async def configure(run: Run, step: Step, args: Any) -> None:
    run.cp(step).configure({key: str(value) for key, value in args.items()})


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
            f"send: the {args['action']} payload breaks the OCPP 1.6 schema: "
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
            f"  its status: {run.cp(step).status(connector)}",
        )


# -- the connection --------------------------------------------------------------------------


async def connect(run: Run, step: Step, args: Any) -> None:
    args = args or {}
    result = await run.cp(step).connect(
        list(args.get("subprotocols", ["ocpp1.6"])),
        args.get("profile"),
        args.get("timeout", run.timeout),
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
    "stop_charging": stop_charging,
    "charge": charge,
    "suspend": suspend,
    "resume": resume,
    "fault": fault,
    "clear_fault": clear_fault,
    "go_offline": go_offline,
    "go_online": go_online,
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
    "wait": wait,
    "set": set_variables,
    "assert": assert_value,
}
assert set(RUNNERS) == set(KINDS), set(RUNNERS) ^ set(KINDS)
