"""A sweep of the charge point's state machine: every connector status x every CSMS-initiated
OCPP 1.6 operation (core, feature profiles, security whitepaper), with schema-valid payloads,
one to three in a row, sent over a real WebSocket by a minimal CSMS made of `ocppj`.

Properties, for every example:
- each CALL is answered with a CALLRESULT that passes the 1.6 response schema (the CSMS
  side's session validates it: a CALLERROR or an invalid answer fails the example);
- the charge point records no internal error (`cp.failures`), in the answer or in the work
  that follows it;
- it stays usable: connected again after a Reset, it answers one more call, and closes cleanly.

The examples are drawn by hypothesis (derandomized, no shrinking: a failure prints the
example) and replayed on one event loop, a fresh charge point each.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve

from ocppj import V16, OcppError, RpcSession
from simulator import ChargePoint, create_charge_point
from simulator.v16 import Behaviour16
from simulator.v16.config import STANDARD_KEYS

from .conftest import fast_spec

# CSMS-initiated operations of OCPP 1.6 (section 5) and of its security whitepaper.
OPERATIONS = (
    "CancelReservation",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DataTransfer",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetLocalListVersion",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
    # security whitepaper
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "SignedUpdateFirmware",
)
STATES = (
    "Available",
    "Preparing",  # cable in, no tag yet
    "Preparing-tag",  # tag authorized, waiting for the cable
    "Charging",
    "SuspendedEV",
    "SuspendedEVSE",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
)
TAG = "TAG-1"
RESERVATION = 1
CURRENT_TX = 987_654_321  # stands for the transaction running on connector 1, if any
EXAMPLES = 160
ANSWER_TIMEOUT = 5.0
FOLLOW_UP_WAIT = 2.0  # follow-up work may wait for a date or a transaction's end: not longer


def test_every_csms_operation_is_swept() -> None:
    assert set(OPERATIONS) == Behaviour16.OPERATIONS


# -- payloads ----------------------------------------------------------------------------------

NOW = datetime.now(UTC)
MOMENTS = st.one_of(
    st.integers(-86_400, 2).map(lambda s: NOW + timedelta(seconds=s)),  # due, or almost
    st.integers(3, 7 * 86_400).map(lambda s: NOW + timedelta(seconds=s)),
    st.datetimes(datetime(1970, 1, 1), datetime(9999, 12, 30), timezones=st.just(UTC)),
)


@st.composite
def date_times(draw: Callable[..., Any]) -> str:
    """RFC 3339 date-times as a CSMS may write them (3339 allows a lower-case t and z)."""
    moment = draw(MOMENTS)
    text = draw(
        st.sampled_from(
            [
                moment.isoformat(),
                moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                moment.strftime("%Y-%m-%dT%H:%M:%S.%f123Z"),  # nanoseconds
                moment.strftime("%Y-%m-%dt%H:%M:%Sz"),
                moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            ]
        )
    )
    return str(text)


SMALL = st.integers(-2, 30)
INTEGERS = st.one_of(SMALL, st.integers(-(2**31), 2**31 - 1))
BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "connectorId": st.sampled_from([0, 1, 1, 2, 3, -1]),
    "transactionId": st.one_of(st.just(CURRENT_TX), INTEGERS),
    "reservationId": st.sampled_from([RESERVATION, 2]),
    "idTag": st.one_of(st.sampled_from([TAG, "TAG-2", "TAG-R"]), st.text(max_size=20)),
    "parentIdTag": st.sampled_from(["PARENT", TAG]),
    "key": st.one_of(st.sampled_from(sorted(STANDARD_KEYS)), st.text(max_size=50)),
    "value": st.sampled_from(
        ["0", "1", "2", "-1", "true", "false", "10", "99999999999", "", "abc", "3", "SoC,Voltage"]
    ),
    "location": st.just("https://firmware.example/file.bin"),
    "remoteLocation": st.just("https://logs.example/upload"),
    "limit": st.one_of(st.integers(0, 100_000), st.integers(0, 1_000).map(lambda n: n / 10)),
    "minChargingRate": st.integers(0, 100).map(lambda n: n / 10),
    "duration": st.one_of(SMALL, st.integers(0, 10**9)),
    "startPeriod": st.one_of(st.integers(0, 86_400), INTEGERS),
    "stackLevel": st.one_of(st.integers(0, 12), INTEGERS),
    "certificate": st.sampled_from(
        ["-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----", "x"]
    ),
    "signingCertificate": st.sampled_from(
        ["-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----", "x"]
    ),
}


def from_schema(
    schema: dict[str, Any], root: dict[str, Any], name: str = ""
) -> st.SearchStrategy[Any]:
    """Values valid under `schema` (the JSON Schema subset the 1.6 schemas use), with the
    fields that steer the charge point drawn from values that matter (`BY_NAME`)."""
    if "$ref" in schema:
        return from_schema(root["definitions"][schema["$ref"].rsplit("/", 1)[-1]], root, name)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if name in BY_NAME:
        return BY_NAME[name]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v, root, k) for k, v in properties.items() if k in required},
            optional={
                k: from_schema(v, root, k) for k, v in properties.items() if k not in required
            },
        )
    if kind == "array":
        items = from_schema(schema["items"], root, name)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=3)
    if kind == "integer":
        return INTEGERS
    if kind == "number":
        return st.integers(0, 1000).map(lambda n: n / 10)
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        if schema.get("format") == "date-time":
            return date_times()
        return st.text(max_size=min(schema.get("maxLength", 40), 40))
    raise AssertionError(f"schema construct not covered: {schema}")


def valid(action: str, payload: dict[str, Any]) -> bool:
    try:
        V16.validate(action, payload)
    except OcppError:
        return False
    return True


def operation(action: str) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    schema = V16.schema(action, False)
    payloads = from_schema(schema, schema).filter(lambda p: valid(action, p))
    return payloads.map(lambda p: (action, p))


OPERATION = st.sampled_from(OPERATIONS).flatmap(operation)
EXAMPLE = st.tuples(st.sampled_from(STATES), st.lists(OPERATION, min_size=1, max_size=3))


def collect(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples of `strategy`, the same on every run."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def take(example: Any) -> None:
        found.append(example)

    take()
    return found


# -- a minimal CSMS ----------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class Peer:
    """Answers every charge-point-initiated 1.6 call with a valid, accepting answer; sends
    CSMS-initiated calls, validated both ways by its `RpcSession`."""

    url: str = ""
    sessions: dict[str, RpcSession] = field(default_factory=dict)
    _tx_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        accepted = {"status": "Accepted"}

        async def boot(_: dict[str, Any]) -> dict[str, Any]:
            return {"status": "Accepted", "currentTime": _now(), "interval": 300}

        async def heartbeat(_: dict[str, Any]) -> dict[str, Any]:
            return {"currentTime": _now()}

        async def authorize(_: dict[str, Any]) -> dict[str, Any]:
            return {"idTagInfo": accepted}

        async def start(_: dict[str, Any]) -> dict[str, Any]:
            return {"transactionId": next(self._tx_ids), "idTagInfo": accepted}

        async def status(_: dict[str, Any]) -> dict[str, Any]:
            return accepted

        async def empty(_: dict[str, Any]) -> dict[str, Any]:
            return {}

        return {
            "BootNotification": boot,
            "Heartbeat": heartbeat,
            "Authorize": authorize,
            "StartTransaction": start,
            "DataTransfer": status,
            "SignCertificate": status,
            **{
                action: empty
                for action in (
                    "StatusNotification",
                    "MeterValues",
                    "StopTransaction",
                    "DiagnosticsStatusNotification",
                    "FirmwareStatusNotification",
                    "LogStatusNotification",
                    "SignedFirmwareStatusNotification",
                    "SecurityEventNotification",
                )
            },
        }

    async def serve(self, connection: ServerConnection) -> None:
        identity = connection.request.path.rsplit("/", 1)[-1] if connection.request else ""
        session = RpcSession(connection, V16, self.handlers())
        self.sessions[identity] = session
        await session.run()

    async def call(self, identity: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.sessions[identity].call(action, payload, ANSWER_TIMEOUT)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    csms = Peer()
    async with serve(
        csms.serve,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6"],  # type: ignore[list-item]
        ping_interval=None,
    ) as server:
        csms.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        yield csms


# -- the sweep ---------------------------------------------------------------------------------


async def reach(peer: Peer, cp: ChargePoint, state: str) -> None:
    """Bring connector 1 into `state` the way a driver or the CSMS would."""
    identity = cp.identity
    if state in ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"):
        await cp.plug_in(1)
    if state in ("Preparing-tag", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"):
        await cp.present_tag(1, TAG)
    if state.startswith("Suspended"):
        await cp.suspend(1, state.removeprefix("Suspended"))
    if state == "Finishing":
        await cp.stop_charging(1)
    if state == "Reserved":
        expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        payload = {"connectorId": 1, "expiryDate": expiry, "idTag": "TAG-R"}
        await peer.call(identity, "ReserveNow", {**payload, "reservationId": RESERVATION})
    if state == "Unavailable":
        await peer.call(identity, "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    if state == "Faulted":
        await cp.fault(1, "GroundFailure")
    await cp.wait_status(1, state.removesuffix("-tag"), timeout=5)
    if state in ("Charging", "SuspendedEV", "SuspendedEVSE"):
        tx = cp.transaction(1)
        assert tx is not None
        await asyncio.wait_for(tx.started.wait(), 5)


def with_current_tx(cp: ChargePoint, value: Any) -> Any:
    """`value` with CURRENT_TX replaced by the id of connector 1's transaction, if any."""
    if isinstance(value, dict):
        return {k: with_current_tx(cp, v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_current_tx(cp, v) for v in value]
    if value == CURRENT_TX:
        tx = cp.transaction(1)
        return tx.transaction_id if tx is not None and tx.transaction_id is not None else 1
    return value


async def follow_ups_done(cp: ChargePoint) -> None:
    """Wait (bounded) for the work started after the answers: `after <Action>` tasks."""
    pending = [t for t in cp._children if t.get_name().startswith("after ")]
    if pending:
        await asyncio.wait(pending, timeout=FOLLOW_UP_WAIT)


async def run_example(peer: Peer, number: int, state: str, calls: list[Any]) -> None:
    spec = fast_spec(f"SWEEP-{number:03d}", connectors=2, operation_step_s=0.0)
    cp = create_charge_point(spec, peer.url)
    try:
        await cp.start(timeout=5)
        await reach(peer, cp, state)
        for action, payload in calls:
            await cp.wait_ready(10)  # after a Reset or a raised profile: connected again
            answer = await peer.call(cp.identity, action, with_current_tx(cp, payload))
            assert isinstance(answer, dict)
            await follow_ups_done(cp)
            assert cp.failures == [], cp.failures
        await cp.wait_ready(10)
        assert "listVersion" in await peer.call(cp.identity, "GetLocalListVersion", {})
        assert cp.failures == [], cp.failures
    finally:
        await asyncio.wait_for(cp.close(), 15)


async def test_no_state_and_csms_operation_can_break_the_charge_point(peer: Peer) -> None:
    examples = collect(EXAMPLE, EXAMPLES)
    covered = {(state, action) for state, calls in examples for action, _ in calls[:1]}
    assert len({state for state, _ in covered}) == len(STATES)
    for number, (state, calls) in enumerate(examples):
        try:
            await run_example(peer, number, state, calls)
        except Exception as exc:
            raise AssertionError(f"example {number}: from {state}, {calls}: {exc!r}") from exc
