"""Run one scenario: charge points up, registry set up, starting state reached, steps run."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from ocppj.errors import RpcError
from simulator import SimulatorError

from .drivers import CsmsDriver, DriverError
from .loader import Scenario, Step
from .steps import RUNNERS, ScenarioBug, StepFailed
from .variables import UnknownVariable, Variables

TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")


class IncomingCall(Protocol):
    action: str
    payload: dict[str, Any]
    response: dict[str, Any] | None  # the charge point's own answer, when it gave it

    async def answer(self, reply: dict[str, Any] | None, error: dict[str, Any] | None) -> None: ...


class ScenarioChargePoint(Protocol):
    """What the steps need from a charge point (the simulator, adapted)."""

    identity: str

    async def close(self) -> None: ...
    async def boot(self, timeout: float) -> dict[str, Any]: ...
    async def plug_in(self, connector: int) -> None: ...
    async def unplug(self, connector: int) -> None: ...
    async def present_tag(self, tag: str, connector: int) -> dict[str, Any]: ...
    async def stop_charging(self, connector: int, reason: str, tag: str | None) -> None: ...
    async def charge(self, connector: int, seconds: float) -> None: ...
    async def suspend(self, connector: int, side: str) -> None: ...
    async def resume(self, connector: int) -> None: ...
    async def fault(self, connector: int, error_code: str) -> None: ...
    async def clear_fault(self, connector: int) -> None: ...
    async def go_offline(self) -> None: ...
    async def go_online(self, timeout: float) -> None: ...
    async def reboot(self, kind: str, timeout: float) -> None: ...
    async def power_loss(self, timeout: float) -> None: ...
    def configure(self, values: dict[str, str]) -> None: ...
    def set_outcome(self, action: str, reply: Any, error: Any, status: str | None) -> None: ...
    async def send(
        self, action: str, payload: dict[str, Any], raw: bool, timeout: float
    ) -> dict[str, Any]: ...
    async def expect_call(self, action: str | None, timeout: float) -> IncomingCall | None: ...
    async def hold_call(self, action: str | None, timeout: float) -> IncomingCall | None: ...
    async def next_call(self, action: str | None, within: float) -> IncomingCall | None: ...
    async def expect_sent(
        self, action: str, timeout: float, request: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None] | None: ...
    def sent(self, action: str) -> list[dict[str, Any]]: ...
    async def sent_within(
        self, action: str, request: Any, within: float
    ) -> dict[str, Any] | None: ...
    async def connect(
        self, subprotocols: list[str], profile: int | None, timeout: float
    ) -> dict[str, Any]: ...
    async def wait_connected(self, profile: int | None, timeout: float) -> str | None: ...
    async def wait_status(self, connector: int, status: str, timeout: float) -> bool: ...
    def status(self, connector: int) -> str: ...
    def transaction_id(self, connector: int) -> int | None: ...
    def mark(self) -> None: ...
    def transcript(self, last: int) -> list[str]: ...
    def schema_problems(self) -> list[str]: ...
    async def protocol_problems(self, timeout: float) -> list[str]: ...
    def excuse_sent(self, action: str) -> None: ...
    def excuse_claimed(self) -> None: ...
    def watch_call(self, action: str, payload: dict[str, Any]) -> Watch: ...


class Watch(Protocol):
    others: list[dict[str, Any]]

    async def arrived(self, timeout: float) -> dict[str, Any] | None: ...
    def cancel(self) -> None: ...


ChargePointFactory = Callable[[str, dict[str, Any]], ScenarioChargePoint]
StepHook = Callable[[Step, str], AbstractContextManager[Any]]


class Located(Exception):
    """A step that went wrong, with its place and the recent frames, for a person to read."""

    def __init__(
        self, step: Step, index: int, message: str, transcripts: dict[str, list[str]], path: str
    ) -> None:
        self.step = step
        self.index = index
        self.message = message
        self.transcripts = transcripts
        self.location = f"{path}:{step.line}"
        super().__init__(str(self))

    def __str__(self) -> str:
        what = f"step {self.index + 1} ({self.step.kind})" if self.index >= 0 else "starting state"
        lines = [
            f"{self.location}: {what} failed",
            "",
            _indent(self.step.source),
            "",
            self.message,
        ]
        for name, frames in self.transcripts.items():
            lines += ["", f"recent frames of {name}:", *["  " + f for f in frames]]
        return "\n".join(lines)


class StepError(Located, AssertionError):
    """The CSMS did not do what the step expects: the case fails."""


class StepBroken(Located):
    """The scenario or the bench went wrong, not the CSMS: the case is broken."""


class ProtocolViolation(AssertionError):
    """The CSMS under test broke the protocol: a frame its OCPP version's schema forbids, a
    CALLERROR or no answer to a charge point's CALL."""


class NotRun(Exception):
    """The case cannot run here: it needs the CSMS to act and nothing can make it (the
    reason says what would)."""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


@dataclass(frozen=True)
class Fixed:
    """Identities and tag values set by the run (`--cp-id`, `--id-tags`) rather than made
    unique per run, so a person can set them up in the CSMS beforehand."""

    cp_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)  # setup tag name -> value

    def identity(self, name: str, first: bool) -> str | None:
        if self.cp_id is None:
            return None
        return self.cp_id if first else f"{self.cp_id}-{name}"


def unique_suffix() -> str:
    return secrets.token_hex(3)


class Run:
    def __init__(
        self,
        scenario: Scenario,
        driver: CsmsDriver,
        factory: ChargePointFactory,
        *,
        timeout: float = 5.0,
        step_hook: StepHook | None = None,
        fixed: Fixed | None = None,
    ) -> None:
        self.scenario = scenario
        self.driver = driver
        self.factory = factory
        self.timeout = timeout
        self.step_hook = step_hook
        self.variables = Variables()
        self.charge_points: dict[str, ScenarioChargePoint] = {}
        self.suffix = unique_suffix()
        self.fixed = fixed or Fixed()

    def cp(self, step: Step | None = None) -> ScenarioChargePoint:
        name = step.cp if step is not None and step.cp else next(iter(self.charge_points))
        if name not in self.charge_points:
            raise ScenarioBug(f"no charge point named {name!r}; have {list(self.charge_points)}")
        return self.charge_points[name]

    async def execute(self) -> None:
        try:
            try:
                await self._setup()
            except DriverError as exc:  # the case is about something else: not run
                raise NotRun(f"could not set the case up in the CSMS: {exc}") from exc
            await self._guarded(self._start_step(), self._reach_state)
            for index, step in enumerate(self.scenario.steps):
                await self._run_step(index, step)
            await self._check_protocol()
        finally:
            for cp in self.charge_points.values():
                await cp.close()

    def _start_step(self) -> Step:
        source = f"state: {self.scenario.state}" if self.scenario.state else "connect and boot"
        return Step("state", self.scenario.state, self.scenario.line, source)

    async def _run_step(self, index: int, step: Step) -> None:
        hook = (
            self.step_hook(step, f"{step.kind} (line {step.line})")
            if self.step_hook
            else nullcontext()
        )
        with hook:

            async def run() -> None:
                args = self.variables.resolve(step.args)
                await RUNNERS[step.kind](self, step, args)

            await self._guarded(step, run, index)

    async def _guarded(
        self, step: Step, work: Callable[[], Awaitable[None]], index: int = -1
    ) -> None:
        """Run `work`; a failure becomes a StepError that also names every protocol problem
        of the CSMS so far (a CALLERROR often explains a wrong verdict)."""
        try:
            await work()
        except (ScenarioBug, UnknownVariable) as exc:
            raise StepBroken(
                step, index, str(exc), self._transcripts(), str(self.scenario.path)
            ) from exc
        except (StepFailed, TimeoutError, SimulatorError, RpcError) as exc:
            message = str(exc) or type(exc).__name__
            problems = await self._problems(0)
            if problems:
                message += "\n\nthe CSMS also broke the protocol:\n" + "\n".join(problems)
            raise StepError(
                step, index, message, self._transcripts(), str(self.scenario.path)
            ) from exc

    async def _problems(self, timeout: float) -> list[str]:
        problems = []
        for cp in self.charge_points.values():
            problems += await cp.protocol_problems(timeout)
            problems += [f"{p}\n    (breaks the OCPP 1.6 schema)" for p in cp.schema_problems()]
        return problems

    async def _check_protocol(self) -> None:
        """Every CALL a charge point sent got a schema-valid CALLRESULT (or the CALLERROR its
        step expected), and every frame of the CSMS keeps to the schema."""
        problems = await self._problems(self.timeout)
        if problems:
            raise ProtocolViolation(
                "the CSMS broke the protocol (each frame below fails the case):\n"
                + "\n".join(problems)
            )

    def _transcripts(self) -> dict[str, list[str]]:
        return {name: cp.transcript(12) for name, cp in self.charge_points.items()}

    async def _setup(self) -> None:
        """Register the tags and charge points in the CSMS, when the driver can."""
        register = self.driver.unable() is None
        tags = {"tag": "Accepted", **self.scenario.setup.get("id_tags", {})}
        for name, spec in tags.items():  # in order: a parent may name an earlier tag
            spec = {"status": spec} if isinstance(spec, str) else self.variables.resolve(spec)
            value = self.fixed.tags.get(name) or f"{name[:12]}-{self.suffix}"
            self.variables[name] = value
            if register:
                await self.driver.register_tag(
                    value, spec.get("status", "Accepted"), spec.get("expiry"), spec.get("parent")
                )
        for name, config in self.scenario.charge_points.items():
            identity = (
                config.get("identity")
                or self.fixed.identity(name, first=not self.charge_points)
                or f"{self.scenario.id[:30]}-{name}-{self.suffix}"
            )
            cp = self.factory(identity, config)  # may take the identity of its certificate
            identity = cp.identity
            if register:
                await self.driver.register_charger(
                    identity, config.get("password"), config.get("security_profile")
                )
            self.charge_points[name] = cp
            self.variables[f"{name}.identity"] = identity

    async def _reach_state(self) -> None:
        state = self.scenario.state
        if state is not None:
            for name, cp in self.charge_points.items():
                await self._reach(state, name, cp)
        for cp in self.charge_points.values():
            cp.mark()

    async def _reach(self, state: str, name: str, cp: ScenarioChargePoint) -> None:
        """Bring `cp` to the starting state. Connecting and booting are every case's business:
        a refusal fails it, naming the cause. A CSMS that refuses the tag or the start leaves
        a case about something else not run, and says why in one line."""
        result = await cp.boot(self.timeout)
        if result.get("status") != "Accepted":
            unable = self.driver.unable()
            if unable is not None:
                raise NotRun(
                    f"the CSMS did not accept charge point {cp.identity} ({result.get('status')}),"
                    f" which could not be registered: {unable}"
                )
            raise StepFailed(f"BootNotification of {name} answered {result.get('status')}")
        if state == "booted":
            return
        try:
            await self._start_session(state, name, cp)
        except (StepFailed, TimeoutError, SimulatorError, RpcError) as exc:
            reason = f"could not reach state {state}: {exc}".splitlines()[0]
            problems = await cp.protocol_problems(0)
            if problems:
                reason += "; the CSMS answered " + problems[0].splitlines()[-1].strip()
            raise NotRun(reason) from exc

    async def _start_session(self, state: str, name: str, cp: ScenarioChargePoint) -> None:
        own = self.scenario.charge_points[name].get("id_tag")
        tag = self.variables.resolve(own) if own else self.variables["tag"]
        if state == "charging":
            await cp.plug_in(1)
        info = await cp.present_tag(tag, 1)
        if info.get("status") != "Accepted":
            raise StepFailed(f"Authorize of the Accepted tag {tag} answered {info.get('status')}")
        if state == "charging":
            if not await cp.wait_status(1, "Charging", self.timeout):
                raise StepFailed(f"connector 1 of {name} is {cp.status(1)}, not Charging")
            self.variables["transactionId"] = cp.transaction_id(1)
