"""The simulator as the scenario steps see it: one adapter over `simulator.ChargePoint`.

Behaviour stays in the simulator (one implementation, as for the CLI and Locust); this module
only translates step arguments and reads the transcript for `expect_sent`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ocppj import Call, CallError, CallResult, OcppError
from simulator import (
    ChargePoint,
    ChargePointSpec,
    Endpoints,
    Entry,
    ExpectationFailed,
    IncomingCall,
    NoEndpoint,
    NotConnected,
    Outcome,
    create_charge_point,
)
from simulator.faults import Faults

from .matchers import mismatches
from .outcomes import NotRun, ScenarioBug, StepFailed

# Outcome statuses that mean "accept, then fail at this stage of the follow-up work".
FAILED_STAGES = {
    "UnlockFailed": "Unlocking",  # 2.0.1: a NotifyEvent tells of the failed lock (F05)
    "DownloadFailed": "Downloading",
    "InstallationFailed": "Installing",
    "UploadFailed": "Uploading",
    "InvalidSignature": "SignatureVerified",
    "InstallVerificationFailed": "InstallVerification",  # 2.0.1: the download does not verify
    "RevokedCertificate": "Revocation",  # the signing certificate, checked, is revoked
    # 2.0.1 GetLog: the upload ends so (N01)
    "UploadFailure": "Uploading",
    "BadMessage": "BadMessage",
    "PermissionDenied": "PermissionDenied",
    "NotSupportedOperation": "NotSupportedOperation",
}


class _Answered:
    """A CSMS call the charge point has already answered by its default behaviour."""

    def __init__(self, call: IncomingCall) -> None:
        self.action = call.action
        self.payload = call.payload
        self.response: dict[str, Any] | None = call.response
        if call.error is not None:
            self.response = {"callError": call.error.code, "description": call.error.description}

    async def answer(self, reply: dict[str, Any] | None, error: dict[str, Any] | None) -> None:
        if reply is not None or error is not None:
            raise ScenarioBug(
                f"{self.action} had been answered already: use an `outcome` step before the "
                "step that triggers it to script the answer"
            )


class _Held:
    def __init__(self, call: IncomingCall) -> None:
        self.call = call
        self.action = call.action
        self.payload = call.payload
        self.response: dict[str, Any] | None = None  # the step's own reply

    async def answer(self, reply: dict[str, Any] | None, error: dict[str, Any] | None) -> None:
        await self.call.answer(reply, error)


class Watch:
    """A `csms:` step's operation, looked for at the charge point from before it is sent."""

    def __init__(self, cp: ChargePoint, action: str, payload: dict[str, Any]) -> None:
        self.action = action
        self.payload = payload
        self.others: list[dict[str, Any]] = []  # calls of `action` that did not match
        self._waiter = cp.expect(action, match=self._matches)

    def _matches(self, payload: dict[str, Any]) -> bool:
        if mismatches(self.payload, payload):
            self.others.append(payload)
            return False
        return True

    async def arrived(self, timeout: float) -> dict[str, Any] | None:
        """The charge point's answer to the CALL (a CALLERROR as `{"callError": code, ...}`),
        None if no matching CALL arrived within `timeout` s."""
        try:
            call = await self._waiter.wait(timeout)
        except ExpectationFailed:
            return None
        return _Answered(call).response or {}

    def cancel(self) -> None:
        self._waiter.future.cancel()


def _sent(entry: Entry, action: str, request: Any) -> bool:
    """Whether `entry` is a CALL of `action` the charge point sent, matching `request`."""
    return (
        entry.direction == "out"
        and isinstance(entry.frame, Call)
        and entry.action == action
        and not mismatches(request or {}, entry.frame.payload)
    )


class SimulatedChargePoint:
    def __init__(self, station: ChargePoint) -> None:
        self.station = station  # the simulator itself: steps drive it directly
        self.identity = station.identity
        self._seen: set[int] = set()
        self._excused: set[int] = set()  # CALLs whose step expects a CALLERROR
        self._claimed: Entry | None = None  # the last CALL `expect_sent` returned
        self._started = False

    async def close(self) -> None:
        if self._started:
            await self.station.close()

    async def boot(self, timeout: float) -> dict[str, Any]:
        if not self._started:
            self._started = True
            with contextlib.suppress(ConnectionError):  # runs; the answer is awaited below
                await self.station.start(0)
            with contextlib.suppress(ExpectationFailed):  # a refused boot is the step's to judge
                await self.station.transcript.wait_for(self._boot_answered, timeout)
            if self.station.registration == "Accepted":
                with contextlib.suppress(ConnectionError):  # and its status reports sent
                    await self.station.wait_ready(timeout)
        else:
            await self.station.call("BootNotification", self.station.boot_payload(), timeout)
        boots = self.station.transcript.calls("out", "BootNotification")
        if not boots and self.station.connect_errors:
            raise StepFailed(
                f"the CSMS did not let the charge point connect within {timeout:g} s: "
                f"{self.station.connect_errors[-1]} (at {self.station.endpoint_url})"
            )
        answer = self.station.transcript.answer_to(boots[-1]) if boots else None
        if answer is None or not isinstance(answer.frame, CallResult):
            raise StepFailed(f"no answer to BootNotification within {timeout:g} s")
        return answer.frame.payload

    def _boot_answered(self, entry: Entry) -> bool:
        """Whether `entry` answers a BootNotification the charge point sent."""
        if entry.direction != "in" or not isinstance(entry.frame, CallResult | CallError):
            return False
        boots = self.station.transcript.calls("out", "BootNotification")
        return any(
            isinstance(b.frame, Call) and b.frame.message_id == entry.frame.message_id
            for b in boots
        )

    async def charge(self, connector: int, seconds: float) -> None:
        if self.station.transaction(connector) is None:
            raise StepFailed(f"connector {connector} has no transaction to charge")
        await self.station.clock.sleep(seconds)

    def set_outcome(self, action: str, reply: Any, error: Any, status: str | None) -> None:
        if error is not None:
            outcome = Outcome(
                error=error["code"], description=error.get("description", ""), times=1
            )
        elif reply is not None:
            outcome = Outcome(reply=reply, times=1)
        elif status in FAILED_STAGES:
            outcome = Outcome.fail(FAILED_STAGES[status], times=1)
        else:
            outcome = Outcome.reject(status or "Rejected", times=1)
        self.station.set_outcome(action, outcome)

    async def send(
        self, action: str, payload: dict[str, Any], raw: bool, timeout: float
    ) -> dict[str, Any]:
        if raw:
            return await self.station.call_raw(action, payload, timeout)
        return await self.station.call(action, payload, timeout)

    def excuse_sent(self, action: str) -> None:
        """The last CALL of `action` sent may be answered with a CALLERROR: its step says so."""
        calls = self.station.transcript.calls("out", action)
        if calls:
            self._excused.add(id(calls[-1]))

    def excuse_claimed(self) -> None:
        """The CALL the last `expect_sent` found may be answered with a CALLERROR."""
        if self._claimed is not None:
            self._excused.add(id(self._claimed))

    def watch_call(self, action: str, payload: dict[str, Any]) -> Watch:
        """Start looking for the CSMS's CALL of `action` matching `payload` (a `csms:` step's
        operation, verified where it must arrive: here)."""
        return Watch(self.station, action, payload)

    async def protocol_problems(self, timeout: float) -> list[str]:
        """Every CALL this charge point sent that the CSMS did not answer with a CALLRESULT:
        answered with a CALLERROR (unless a step expected one), or not answered within
        `timeout` s of sending while the link stayed up, or left unanswered when the CSMS closed
        the link. A CALL whose link the charge point dropped itself is not the CSMS's fault."""
        pending = self._pending()
        if pending:
            wait = timeout - (self.station.now() - pending[-1].at).total_seconds()
            if wait > 0:
                with contextlib.suppress(ExpectationFailed):
                    await self.station.transcript.wait_for(
                        lambda e: not self._pending(), wait, start=len(self.station.transcript)
                    )
        return [problem for problem in map(self._problem, self._pending(all_calls=True)) if problem]

    def _pending(self, all_calls: bool = False) -> list[Entry]:
        """CALLs sent without an answer yet (`all_calls`: every CALL sent)."""
        entries = list(self.station.transcript)
        answered = {
            e.frame.message_id
            for e in entries
            if e.direction == "in" and isinstance(e.frame, CallResult | CallError)
        }
        calls = [e for e in entries if e.direction == "out" and isinstance(e.frame, Call)]
        if all_calls:
            return calls
        pending = []
        for call in calls:
            assert isinstance(call.frame, Call)
            if call.frame.message_id not in answered and self._link_end(call) is None:
                pending.append(call)
        return pending

    def _link_end(self, call: Entry) -> Entry | None:
        """The LINK entry that ended the connection `call` was sent on, if it ended."""
        after = False
        for entry in self.station.transcript:
            if entry is call:
                after = True
            elif after and entry.direction == "link" and entry.text.startswith(("closed", "lost")):
                return entry
        return None

    def _problem(self, call: Entry) -> str | None:
        assert isinstance(call.frame, Call)
        answer = self.station.transcript.answer_to(call)
        if answer is not None and isinstance(answer.frame, CallError):
            if id(call) in self._excused:
                return None
            return (
                f"{call.line()}\n    answered with CALLERROR {answer.frame.code}: "
                f"{answer.frame.description}"
            )
        if answer is not None:
            return None  # a CALLRESULT; schema_problems() judges its payload
        end = self._link_end(call)
        if end is None:
            return f"{call.line()}\n    no answer"
        if "by the charge point" in end.text:
            return None
        return f"{call.line()}\n    no answer before the link ended: {end.text}"

    async def expect_call(self, action: str | None, timeout: float) -> Any:
        try:
            return _Answered(await self.station.expect_call(action, timeout))
        except ExpectationFailed:
            return None

    async def next_call(self, action: str | None, within: float) -> Any:
        """A CSMS call that arrives from now on (calls already received do not count)."""
        try:
            return _Answered(await self.station.expect(action).wait(within))
        except ExpectationFailed:
            return None

    async def hold_call(self, action: str | None, timeout: float) -> Any:
        try:
            return _Held(await self.station.expect(action, hold=True).wait(timeout))
        except ExpectationFailed:
            return None

    async def expect_sent(
        self, action: str, timeout: float, request: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """The first CALL of `action` sent since the last mark and not yet claimed whose
        payload matches `request`, with the CSMS's answer."""
        transcript = self.station.transcript
        try:
            entry = await transcript.wait_for(
                lambda e: _sent(e, action, request) and id(e) not in self._seen,
                timeout,
                what=f"{action} sent",
            )
        except ExpectationFailed:
            return None
        self._seen.add(id(entry))
        self._claimed = entry
        call = entry.frame
        assert isinstance(call, Call)
        answer = transcript.answer_to(entry)
        if answer is None:
            with contextlib.suppress(ExpectationFailed):
                answer = await transcript.wait_for(
                    lambda e: (
                        e.direction == "in"
                        and isinstance(e.frame, CallResult | CallError)
                        and e.frame.message_id == call.message_id
                    ),
                    timeout,
                )
        response: dict[str, Any] | None = None
        if answer is not None and isinstance(answer.frame, CallResult):
            response = answer.frame.payload
        elif answer is not None and isinstance(answer.frame, CallError):
            response = {"callError": answer.frame.code, "description": answer.frame.description}
        return call.payload, response

    async def connect(
        self,
        subprotocols: list[str],
        profile: int | None,
        timeout: float,
        *,
        username: str | None = None,
        tls: str | None = None,
    ) -> dict[str, Any]:
        """One separate connection attempt as this charge point: how the CSMS met it; as
        Basic Auth user `username`, offering TLS up to `tls` only."""
        handshake = await self.station.probe(
            subprotocols, profile, wait_close=timeout, username=username, tls_max=tls
        )
        error = handshake.error or ""
        if tls is not None and "NO_PROTOCOLS_AVAILABLE" in error:
            raise NotRun(f"this machine's OpenSSL cannot offer TLS {tls} ({error})")
        return {
            "accepted": handshake.accepted,
            "status": handshake.status,
            "subprotocol": handshake.subprotocol,
            "closed": handshake.closed,
            "error": handshake.error,
        }

    async def wait_connected(self, profile: int | None, timeout: float) -> str | None:
        """None once connected (and booted, if due) with `profile`; else what is wrong."""
        try:
            if profile is None:
                await self.station.wait_ready(timeout)
            else:
                await self.station.wait_profile(profile, timeout)
        except NotConnected as exc:
            return f"{exc} (at {self.station.endpoint_url})"
        return None

    async def wait_status(self, connector: int, status: str, timeout: float) -> bool:
        try:
            await self.station.wait_status(connector, status, timeout)
        except ExpectationFailed:
            return False
        return True

    async def wait_charging(self, connector: int, timeout: float) -> bool:
        """Whether the connector's transaction is charging within `timeout` s, as the CSMS
        was told: in 1.6 the status Charging; in 2.0.1, which has no such status, a
        TransactionEvent of that transaction with chargingState Charging."""
        if self.station.dialect.version == "1.6":
            return await self.wait_status(connector, "Charging", timeout)

        def charging(entry: Entry) -> bool:
            tx = self.station.transaction(connector)
            info = {"transactionId": tx.transaction_id, "chargingState": "Charging"} if tx else {}
            return tx is not None and _sent(entry, "TransactionEvent", {"transactionInfo": info})

        try:
            await self.station.transcript.wait_for(charging, timeout, what="charging")
        except ExpectationFailed:
            return False
        return True

    async def sent_within(self, action: str, request: Any, within: float) -> dict[str, Any] | None:
        """The payload of a CALL of `action` matching `request` sent from now on, if one goes
        out within `within` seconds."""
        transcript = self.station.transcript
        try:
            entry = await transcript.wait_for(
                lambda e: _sent(e, action, request),
                within,
                start=len(transcript),
                what=f"{action} sent",
            )
        except ExpectationFailed:
            return None
        return entry.payload

    def sent(self, action: str) -> list[dict[str, Any]]:
        return self.station.transcript.sent_payloads(action)

    def mark(self) -> None:
        """What was sent so far is not for `expect_sent`: it looks at what comes next."""
        self._seen.update(id(entry) for entry in self.station.transcript)

    def schema_problems(self) -> list[str]:
        """Every frame the CSMS sent that breaks the OCPP schema (the simulator answers such
        a CALL with a CALLERROR; the scenario must fail on it too)."""
        problems = []
        dialect = self.station.dialect  # the version the charge point speaks
        for entry in self.station.transcript:
            if entry.direction != "in" or entry.action is None:
                continue
            if not isinstance(entry.frame, Call | CallResult):
                continue
            try:
                answer = isinstance(entry.frame, CallResult)
                dialect.validate(entry.action, entry.frame.payload, answer)
            except OcppError as exc:
                problems.append(f"{entry.line()}\n    {exc.code}: {exc.description}")
        return problems

    def transcript(self, last: int) -> list[str]:
        """The last `last` frames, readable (0: all)."""
        return self.station.transcript.lines(last or None)


ChargePointFactory = Callable[[str, dict[str, Any]], "SimulatedChargePoint"]


def charge_point_factory(endpoints: Endpoints, password: str | None = None) -> ChargePointFactory:
    """Build scenario charge points from their `charge_point` settings."""

    def build(identity: str, config: dict[str, Any]) -> SimulatedChargePoint:
        profile = int(config.get("security_profile", 1))
        if profile == 3:
            identity = endpoints.certificate_identity() or identity

        spec = ChargePointSpec(
            identity,
            security_profile=profile,
            vendor=config.get("vendor", "ocpp-bench"),
            model=config.get("model", "scenario"),
            connectors=int(config.get("connectors", 1)),
            password=None if profile == 3 else config.get("password", password),
            configuration={k: _text(v) for k, v in (config.get("config") or {}).items()},
            boot_retry_s=1.0,
            call_timeout_s=10.0,
            faults=Faults.parse(config.get("faults", "")),
            ocpp_version=str(config.get("ocpp", "1.6")),
        )
        if "power_w" in config:
            spec.max_power_w = float(config["power_w"])
        try:
            url, context = endpoints.url(profile), endpoints.ssl_context(identity, profile)
        except NoEndpoint as exc:
            raise NotRun(f"{exc}: give --csms-url-profile{profile}") from exc
        targets = endpoints.lookup(identity)  # where it goes when the CSMS raises its profile
        cp = create_charge_point(spec, url, ssl_context=context, profile_targets=targets)
        return SimulatedChargePoint(cp)

    return build


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
