"""OCPP-J errors, one class per wire error code, plus the errors of the RPC layer itself.

`code` holds the OCPP 1.6 spelling; a `Dialect` maps it to another version's spelling.
"""

from __future__ import annotations

from typing import Any


class OcppError(Exception):
    """An error that becomes a CALLERROR on the wire."""

    code = "GenericError"
    default_description = "Unspecified error"

    def __init__(self, description: str = "", details: dict[str, Any] | None = None) -> None:
        self.description = description or self.default_description
        self.details = details or {}
        super().__init__(f"{self.code}: {self.description}")


class NotImplementedAction(OcppError):
    code = "NotImplemented"
    default_description = "Requested Action is not known by receiver"


class NotSupportedAction(OcppError):
    code = "NotSupported"
    default_description = "Requested Action is recognized but not supported by the receiver"


class InternalError(OcppError):
    code = "InternalError"
    default_description = "An internal error occurred and the receiver could not process the Action"


class ProtocolError(OcppError):
    code = "ProtocolError"
    default_description = "Payload for Action is incomplete"


class SecurityError(OcppError):
    code = "SecurityError"
    default_description = "The receiver refuses to process this Action for security reasons"


class FormationViolation(OcppError):
    code = "FormationViolation"
    default_description = "Payload for Action is syntactically incorrect or not conform the PDU"


class PropertyConstraintViolation(OcppError):
    code = "PropertyConstraintViolation"
    default_description = "A field of the payload contains an invalid value"


class OccurenceConstraintViolation(OcppError):
    code = "OccurenceConstraintViolation"
    default_description = "A field of the payload violates occurence constraints"


class TypeConstraintViolation(OcppError):
    code = "TypeConstraintViolation"
    default_description = "A field of the payload violates data type constraints"


class GenericError(OcppError):
    code = "GenericError"


class FrameError(OcppError):
    """A frame that could not be decoded; `message_id` is the id to answer with."""

    def __init__(self, error: OcppError, message_id: str) -> None:
        self.error = error
        self.message_id = message_id
        self.code = error.code
        super().__init__(error.description, error.details)


class RpcError(Exception):
    """Base of the errors an RPC caller sees (other than OcppError for its own bad payload)."""


class CallErrorReceived(RpcError):
    """The peer answered our CALL with a CALLERROR."""

    def __init__(self, action: str, code: str, description: str, details: dict[str, Any]) -> None:
        self.action = action
        self.code = code
        self.description = description
        self.details = details
        super().__init__(f"{action}: CALLERROR {code}: {description}")


class InvalidResponse(RpcError):
    """The peer's CALLRESULT does not match the response schema."""

    def __init__(self, action: str, error: OcppError, payload: dict[str, Any]) -> None:
        self.action = action
        self.error = error
        self.payload = payload
        super().__init__(f"{action}: invalid response ({error.code}): {error.description}")


class CallTimeout(RpcError, TimeoutError):
    """No answer to our CALL in time."""

    def __init__(self, action: str, timeout: float) -> None:
        self.action = action
        self.timeout = timeout
        super().__init__(f"{action}: no answer within {timeout:g} s")


class ConnectionLost(RpcError, ConnectionError):
    """The connection closed while a CALL was waiting for its answer."""


ERROR_CLASSES: dict[str, type[OcppError]] = {
    cls.code: cls
    for cls in (
        NotImplementedAction,
        NotSupportedAction,
        InternalError,
        ProtocolError,
        SecurityError,
        FormationViolation,
        PropertyConstraintViolation,
        OccurenceConstraintViolation,
        TypeConstraintViolation,
        GenericError,
    )
}
