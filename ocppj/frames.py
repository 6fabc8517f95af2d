"""OCPP-J framing: decode a WebSocket message into a CALL, CALLRESULT or CALLERROR and back.

Decoding never echoes raw input: a frame it cannot read raises `FrameError` carrying the
error to answer with and the message id to use ("-1" when the id itself cannot be read).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import FormationViolation, FrameError, OcppError, ProtocolError

CALL = 2
CALLRESULT = 3
CALLERROR = 4
MAX_MESSAGE_ID_LENGTH = 36
UNKNOWN_ID = "-1"
# Every object key is a string closed by '"' and followed by ':'; escaped quotes inside string
# values can only make this count larger, never smaller.
_KEY_END = re.compile(r'"\s*:')


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]
    type_id = CALL


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]
    type_id = CALLRESULT


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    type_id = CALLERROR


Frame = Call | CallResult | CallError


def encode(frame: Frame) -> str:
    if isinstance(frame, Call):
        body: list[Any] = [CALL, frame.message_id, frame.action, frame.payload]
    elif isinstance(frame, CallResult):
        body = [CALLRESULT, frame.message_id, frame.payload]
    else:
        body = [CALLERROR, frame.message_id, frame.code, frame.description, frame.details]
    return orjson.dumps(body).decode()


def _fail(error: OcppError, message_id: str = UNKNOWN_ID) -> FrameError:
    return FrameError(error, message_id)


def _readable_id(body: list[Any]) -> str:
    if len(body) > 1 and isinstance(body[1], str) and 0 < len(body[1]) <= MAX_MESSAGE_ID_LENGTH:
        return body[1]
    return UNKNOWN_ID


def decode(raw: str | bytes) -> Frame:
    """Parse one message. Raises FrameError for anything that is not a well-formed frame."""
    if isinstance(raw, bytes):
        raise _fail(FormationViolation("Binary frames are not used by OCPP-J; send text frames"))
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _fail(FormationViolation(f"Message is not valid JSON: {exc}")) from exc
    if not isinstance(body, list):
        raise _fail(FormationViolation("Message is not a JSON array"))
    if not body or type(body[0]) is not int:
        raise _fail(FormationViolation("Message has no integer MessageTypeId"), _readable_id(body))
    type_id, message_id = body[0], _readable_id(body)
    if type_id not in (CALL, CALLRESULT, CALLERROR):
        raise _fail(ProtocolError(f"Unknown MessageTypeId {type_id}"), message_id)
    if len(body) < 2 or not isinstance(body[1], str):
        raise _fail(FormationViolation("UniqueId must be a string"))
    if not body[1] or len(body[1]) > MAX_MESSAGE_ID_LENGTH:
        raise _fail(FormationViolation(f"UniqueId must be 1 to {MAX_MESSAGE_ID_LENGTH} chars"))
    if type_id == CALL:
        call = _decode_call(body, message_id)
        _refuse_duplicate_keys(raw, call)
        return call
    if type_id == CALLRESULT:
        if len(body) != 3 or not isinstance(body[2], dict):
            raise _fail(FormationViolation("CALLRESULT must be [3, id, {payload}]"), message_id)
        return CallResult(message_id, body[2])
    if (
        len(body) != 5
        or not isinstance(body[2], str)
        or not isinstance(body[3], str)
        or not isinstance(body[4], dict)
    ):
        raise _fail(FormationViolation("CALLERROR must be [4, id, code, description, {details}]"))
    return CallError(message_id, body[2], body[3], body[4])


def _decode_call(body: list[Any], message_id: str) -> Call:
    if len(body) != 4:
        raise _fail(FormationViolation("CALL must be [2, id, action, {payload}]"), message_id)
    if not isinstance(body[2], str) or not body[2]:
        raise _fail(FormationViolation("Action must be a non-empty string"), message_id)
    if not isinstance(body[3], dict):
        raise _fail(FormationViolation("Payload must be a JSON object"), message_id)
    return Call(message_id, body[2], body[3])


def _count_keys(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_count_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_keys(v) for v in value)
    return 0


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicate_keys(raw: str, call: Call) -> None:
    """A CALL payload with a key twice is refused: orjson would silently keep the last value.

    Cheap path: when the text holds no more `"...":` key ends than the decoded payload has
    keys, there is no duplicate. Only otherwise (a duplicate, or `":` inside a string value)
    is the frame parsed again, key by key. CALLRESULTs and CALLERRORs are not checked.
    """
    if len(_KEY_END.findall(raw)) <= _count_keys(call.payload):
        return
    try:
        json.loads(raw, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        raise _fail(
            FormationViolation(f"Payload has the key {exc.args[0]!r} more than once"),
            call.message_id,
        ) from exc
