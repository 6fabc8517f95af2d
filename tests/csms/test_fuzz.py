"""Property-based fuzzing of the CSMS over a real socket (hypothesis, bounded and derandomized).

Examples are generated first (strategies built from the OCPP 1.6 request schemas of the
charge-point-initiated actions, then mutations of them, then mutations of the frame text) and
replayed over one connection. After each, a Heartbeat with a fresh id is sent and every frame up
to its answer is checked. Properties:
- the CSMS never crashes: the connection stays open and the Heartbeat is answered;
- it never sends an invalid frame: each decodes as OCPP-J, a CALLRESULT passes the response
  schema of the action it answers, a CALLERROR carries a 1.6 error code and a known id;
- a schema-valid CALL is answered with a CALLRESULT (a CALLERROR only for integers past 64 bits,
  which orjson and SQLite cannot hold);
- every StartTransaction it acknowledged is persisted as sent.
Generation is not shrunk (the replay is not inside @given): a failure prints the frame.

The schema strategies are built here, not by hypothesis-jsonschema: its latest release (0.23.1)
fails on current hypothesis (6.170: 'many' object has no attribute 'more'), and the 1.6 schemas
use a small subset of JSON Schema (object, string with enum/maxLength/date-time, integer,
array with minItems, $ref to definitions) that a page of code covers.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from csms import CsmsApp
from ocppj import V16, frames

from .client import RawClient

ACTIONS = (
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
)
ERROR_CODES = {
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
}
CHARGER = "CP-FUZZ"
INT64 = range(-(2**63), 2**63)
_ids = itertools.count(1)


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


TIMESTAMPS = st.datetimes(datetime(1970, 1, 1), datetime(9999, 12, 31), timezones=st.just(UTC))
DATE_TIMES = st.one_of(
    TIMESTAMPS.map(lambda t: t.isoformat()),
    TIMESTAMPS.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    TIMESTAMPS.map(lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")),
)
INTEGERS = st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-5, 5), st.integers())


def from_schema(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid under `schema` (the JSON Schema subset the OCPP 1.6 schemas use)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return from_schema(root["definitions"][name], root)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v, root) for k, v in properties.items() if k in required},
            optional={k: from_schema(v, root) for k, v in properties.items() if k not in required},
        )
    if kind == "array":
        return st.lists(
            from_schema(schema["items"], root), min_size=schema.get("minItems", 0), max_size=4
        )
    if kind == "integer":
        return INTEGERS
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False) | INTEGERS
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        if schema.get("format") == "date-time":
            return DATE_TIMES
        return st.text(max_size=schema.get("maxLength", 60))
    raise AssertionError(f"schema construct not covered: {schema}")


def payloads(action: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = V16.schema(action, False)
    return from_schema(schema, schema)


def integers_fit(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in INT64
    if isinstance(value, dict):
        return all(integers_fit(v) for v in value.values())
    if isinstance(value, list):
        return all(integers_fit(v) for v in value)
    return True


def encodable(payload: dict[str, Any]) -> bool:
    try:
        orjson.dumps(payload)  # no lone surrogates, no integer past 64 bits
    except TypeError:
        return False
    return integers_fit(payload)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@st.composite
def mutated(draw: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """A valid payload with one change: a key dropped, added, or given another value."""
    action = draw(st.sampled_from(ACTIONS))
    payload: dict[str, Any] = dict(draw(payloads(action)))
    how = draw(st.sampled_from(["drop", "add", "retype", "long"]))
    keys = sorted(payload)
    if how == "drop" and keys:
        del payload[draw(st.sampled_from(keys))]
    elif how == "retype" and keys:
        payload[draw(st.sampled_from(keys))] = draw(JSON_VALUES)
    elif how == "long" and keys:
        payload[draw(st.sampled_from(keys))] = "x" * draw(st.integers(0, 2000))
    else:
        payload[draw(st.text(min_size=1, max_size=12))] = draw(JSON_VALUES)
    return action, payload


@st.composite
def garbled(draw: Callable[..., Any]) -> str:
    """The text of a valid CALL with characters cut, inserted or replaced."""
    action = draw(st.sampled_from(ACTIONS))
    text = json.dumps([2, f"g{draw(st.integers(0, 10**6))}", action, draw(payloads(action))])
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["cut", "insert", "replace"]))
        piece = draw(st.sampled_from(['"', ",", "[", "]", "{", "}", ":", "2", "3", "4", "-1", " "]))
        if edit == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif edit == "insert":
            text = text[:at] + piece + text[at:]
        else:
            text = text[:at] + piece + text[at + 1 :]
    return text


class Checker:
    """Sends frames, drains to a Heartbeat answer, checks every frame the CSMS sent."""

    def __init__(self, client: RawClient) -> None:
        self.client = client
        self.sent: dict[str, str] = {}  # message id -> action
        self.started: list[tuple[dict[str, Any], int]] = []  # acknowledged starts
        self.frames_checked = 0
        self.last_text = ""

    async def send(self, text: str, message_id: str | None, action: str | None) -> list[Any]:
        if message_id is not None and action is not None:
            self.sent[message_id] = action
        else:  # garbled text: the CSMS may still read a CALL in it
            try:
                call = frames.decode(text)
            except frames.FrameError:
                pass
            else:
                if isinstance(call, frames.Call):
                    self.sent[call.message_id] = call.action
        self.last_text = text
        await self.client.send(text)
        return await self.drain()

    async def drain(self) -> list[Any]:
        """Every frame before the answer to a fresh Heartbeat; checks each."""
        beat = f"hb{next(_ids)}"
        self.sent[beat] = "Heartbeat"
        await self.client.send(json.dumps([2, beat, "Heartbeat", {}]))
        before = []
        while True:
            raw = await self.client.ws.recv()  # the test times out if the CSMS hangs
            frame = self.check(raw)
            if isinstance(frame, frames.CallResult) and frame.message_id == beat:
                return before
            before.append(frame)

    def check(self, raw: str | bytes) -> frames.Frame:
        assert isinstance(raw, str), "the CSMS sent a binary frame"
        frame = frames.decode(raw)  # raises FrameError on anything ill-formed
        self.frames_checked += 1
        if isinstance(frame, frames.CallResult):
            action = self.sent.get(frame.message_id)
            assert action is not None, f"CALLRESULT for an id never sent: {raw}"
            V16.validate(action, frame.payload, response=True)
        elif isinstance(frame, frames.CallError):
            assert frame.code in ERROR_CODES, raw
            known = frame.message_id in self.sent or f'"{frame.message_id}"' in self.last_text
            assert frame.message_id == "-1" or known, f"CALLERROR for an id never sent: {raw}"
        else:
            V16.validate(frame.action, frame.payload)
        return frame

    async def call(self, action: str, payload: dict[str, Any], *, valid: bool) -> None:
        message_id = f"f{next(_ids)}"
        text = json.dumps([2, message_id, action, payload])
        answers = await self.send(text, message_id, action)
        mine = [f for f in answers if f.message_id in (message_id, "-1")]
        assert len(mine) == 1, f"{len(mine)} answers to {text[:300]}"
        [answer] = mine
        if valid and encodable(payload):
            assert isinstance(answer, frames.CallResult), f"{answer} for {text[:300]}"
        if isinstance(answer, frames.CallResult) and action == "StartTransaction":
            self.started.append((payload, answer.payload["transactionId"]))

    async def assert_starts_persisted(self, app: CsmsApp) -> None:
        """Each acknowledged start is stored as first sent. A repeat (same connector, tag and
        timestamp) is the same transaction: it gets the first one's id and changes nothing."""
        store = app.services.transactions.transactions
        first: dict[tuple[Any, ...], tuple[dict[str, Any], int]] = {}
        for payload, transaction_id in self.started:
            key = (payload["connectorId"], payload["idTag"], payload["timestamp"])
            sent, known_id = first.setdefault(key, (payload, transaction_id))
            assert transaction_id == known_id, f"one start, two ids: {payload}"
            row = await store.get(transaction_id)
            assert row is not None, f"acknowledged start {transaction_id} not stored"
            assert (row["connector_id"], row["id_tag"], row["start_timestamp"]) == key
            assert row["meter_start"] == sent["meterStart"]
        assert len(await store.find(charger_id=CHARGER, limit=10**6)) == len(first)


async def fuzz_client(app: CsmsApp) -> tuple[RawClient, Checker]:
    await app.services.chargers.register(CHARGER)
    client = await RawClient.open(f"{app.ocpp_url}/CP-FUZZ")
    checker = Checker(client)
    await checker.call(
        "BootNotification", {"chargePointVendor": "F", "chargePointModel": "F"}, valid=True
    )
    return client, checker


async def test_schema_valid_calls_are_answered_and_persisted(csms_app: CsmsApp) -> None:
    examples = collect(
        st.sampled_from(ACTIONS).flatmap(lambda a: st.tuples(st.just(a), payloads(a))), 1200
    )
    client, checker = await fuzz_client(csms_app)
    for action, payload in examples:
        await checker.call(action, payload, valid=True)
    assert len(checker.started) > 20
    await checker.assert_starts_persisted(csms_app)
    await client.close()


async def test_mutated_calls_never_break_the_csms(csms_app: CsmsApp) -> None:
    examples = collect(mutated(), 700)
    client, checker = await fuzz_client(csms_app)
    for action, payload in examples:
        await checker.call(action, payload, valid=False)
    await checker.assert_starts_persisted(csms_app)
    await client.close()


async def test_garbled_frame_text_never_breaks_the_csms(csms_app: CsmsApp) -> None:
    examples = collect(garbled(), 700)
    client, checker = await fuzz_client(csms_app)
    for text in examples:
        await checker.send(text, None, None)
    assert checker.frames_checked >= 2 * len(examples)
    await client.close()
