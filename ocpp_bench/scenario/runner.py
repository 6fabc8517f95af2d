"""Run one scenario: charge points up, registry set up, starting state reached, steps run."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from ocppj.errors import RpcError
from simulator import SimulatorError

from .charge_point import ChargePointFactory, SimulatedChargePoint
from .drivers import CsmsDriver, DriverError
from .loader import Scenario, Step
from .outcomes import (
    NotRun,
    ProtocolViolation,
    ScenarioBug,
    StepBroken,
    StepError,
    StepFailed,
)
from .steps import RUNNERS
from .variables import UnknownVariable, Variables

StepHook = Callable[[Step, str], AbstractContextManager[Any]]

TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")


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
        self.charge_points: dict[str, SimulatedChargePoint] = {}
        self.suffix = unique_suffix()
        self.fixed = fixed or Fixed()

    def cp(self, step: Step | None = None) -> SimulatedChargePoint:
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
            note = f"\n    (breaks the OCPP {cp.station.dialect.version} schema)"
            problems += [problem + note for problem in cp.schema_problems()]
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
            config = {"ocpp": self.scenario.ocpp, **config}  # a charge point may say its own
            cp = self.factory(identity, config)  # may take the identity of its certificate
            identity = cp.identity
            if register:
                await self.driver.register_charger(
                    identity,
                    config.get("password"),
                    config.get("security_profile"),
                    config.get("registration"),
                )
            self.charge_points[name] = cp
            self.variables[f"{name}.identity"] = identity
            for profile in (1, 2, 3):  # where the CSMS listens, for the payloads that say so
                target = cp.station.target(profile)
                if target is not None:
                    self.variables.setdefault(f"csms.url_profile{profile}", target.url)

    async def _reach_state(self) -> None:
        state = self.scenario.state
        if state is not None:
            for name, cp in self.charge_points.items():
                await self._reach(state, name, cp)
        for cp in self.charge_points.values():
            cp.mark()

    async def _reach(self, state: str, name: str, cp: SimulatedChargePoint) -> None:
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

    async def _start_session(self, state: str, name: str, cp: SimulatedChargePoint) -> None:
        own = self.scenario.charge_points[name].get("id_tag")
        tag = self.variables.resolve(own) if own else self.variables["tag"]
        if state == "charging":
            await cp.station.plug_in(1)
        info = await cp.station.present_tag(1, tag)
        if info.get("status") != "Accepted":
            raise StepFailed(f"Authorize of the Accepted tag {tag} answered {info.get('status')}")
        if state == "charging":
            if not await cp.wait_charging(1, self.timeout):
                raise StepFailed(f"connector 1 of {name} is {cp.station.status(1)}, not charging")
            transaction = cp.station.transaction(1)
            self.variables["transactionId"] = transaction.transaction_id if transaction else None
