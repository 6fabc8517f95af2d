"""Errors of the HTTP API, and the mapping of CSMS and RPC errors onto HTTP statuses.

Every error body is JSON: {"error": <kind>, "detail": <message>, ...specifics}.

| raised                                   | status |
|------------------------------------------|--------|
| UnknownCharger, unknown action           | 404    |
| a charge-point-initiated action          | 400    |
| ChargerNotConnected                      | 409    |
| OcppError (payload breaks the schema)    | 422    |
| CallErrorReceived, InvalidResponse,      | 502    |
| ConnectionLost                           |        |
| CallTimeout                              | 504    |
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ocpp_bench.rpc import (
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    InvalidResponse,
    OcppError,
)

from ..app import ChargerNotConnected
from ..operations import UnknownAction, UnknownCharger


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, **extra: Any) -> None:
        self.status = status
        self.error = error
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}
        super().__init__(detail)


def _body(error: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, **extra}


def to_api_error(exc: Exception) -> ApiError:
    """The ApiError for a CSMS or RPC error (re-raises what it does not know)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, UnknownCharger):
        return ApiError(404, "UnknownCharger", str(exc), chargerId=exc.charger_id)
    if isinstance(exc, UnknownAction):
        status = 400 if exc.known else 404
        return ApiError(status, "UnsupportedAction", str(exc), action=exc.action)
    if isinstance(exc, ChargerNotConnected):
        return ApiError(409, "ChargerNotConnected", str(exc), chargerId=exc.charger_id)
    if isinstance(exc, OcppError):
        return ApiError(422, "InvalidPayload", exc.description, code=exc.code, details=exc.details)
    if isinstance(exc, CallErrorReceived):
        return ApiError(
            502,
            "CallError",
            f"The charger answered {exc.action} with CALLERROR {exc.code}",
            code=exc.code,
            description=exc.description,
            details=exc.details,
        )
    if isinstance(exc, InvalidResponse):
        return ApiError(
            502,
            "InvalidResponse",
            str(exc),
            code=exc.error.code,
            description=exc.error.description,
            response=exc.payload,
        )
    if isinstance(exc, CallTimeout):
        return ApiError(504, "CallTimeout", str(exc), timeout=exc.timeout)
    if isinstance(exc, ConnectionLost):
        return ApiError(502, "ConnectionLost", str(exc))
    raise exc


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    error = to_api_error(exc)
    return JSONResponse(
        _body(error.error, error.detail, **error.extra), error.status, headers=error.headers
    )


def install(app: FastAPI) -> None:
    for kind in (
        ApiError,
        UnknownCharger,
        UnknownAction,
        ChargerNotConnected,
        OcppError,
        CallErrorReceived,
        InvalidResponse,
        CallTimeout,
        ConnectionLost,
    ):
        app.add_exception_handler(kind, _handle)
