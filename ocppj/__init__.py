"""OCPP-J, the bottom floor shared by the CSMS and the simulator: framing, schemas, errors,
versions, a session, date-times. It imports nothing of ours."""

from .dialect import DIALECTS, KNOWN, V16, V201, Dialect
from .errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    InvalidResponse,
    OcppError,
    RpcError,
)
from .frames import Call, CallError, CallResult, Frame, decode, encode
from .session import FollowUp, Handler, Observer, RpcSession, Transport

__all__ = [
    "DIALECTS",
    "KNOWN",
    "V16",
    "V201",
    "Call",
    "CallError",
    "CallErrorReceived",
    "CallResult",
    "CallTimeout",
    "ConnectionLost",
    "Dialect",
    "FollowUp",
    "Frame",
    "Handler",
    "InvalidResponse",
    "Observer",
    "OcppError",
    "RpcError",
    "RpcSession",
    "Transport",
    "decode",
    "encode",
]
