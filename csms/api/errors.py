"""Errors of the HTTP API, and the mapping of CSMS and RPC errors onto HTTP statuses.

Every error body is JSON: {"error": <kind>, "detail": <message>, ...specifics}, FastAPI's and
Starlette's own errors included (a request that breaks a route's model, an unknown route, a
method a route does not take, an unexpected exception).

| raised                                   | status | error                 |
|------------------------------------------|--------|-----------------------|
| UnknownCharger, unknown action           | 404    | UnknownCharger, ...   |
| a charge-point-initiated action          | 400    | UnsupportedAction     |
| ChargerNotConnected                      | 409    | ChargerNotConnected   |
| OcppError (payload breaks the schema)    | 422    | InvalidPayload        |
| InvalidOperation (no request of it)      | 422    | InvalidOperation      |
| RequestValidationError (route's model)   | 422    | InvalidRequest        |
| InvalidField (services.validation)       | 422    | InvalidField          |
| an unknown route / method                | 404/405| NotFound, MethodNotAllowed |
| CallErrorReceived, InvalidResponse,      | 502    | CallError, ...        |
| ConnectionLost                           |        |                       |
| CallTimeout                              | 504    | CallTimeout           |
| anything else                            | 500    | InternalError         |
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from ocppj import (
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    InvalidResponse,
    OcppError,
)

from ..adapter import InvalidOperation
from ..operations import ChargerNotConnected, UnknownAction, UnknownCharger
from ..services.validation import InvalidField

# the API's names of the registry's fields (InvalidField names them as the store does)
FIELD_NAMES = {
    "charger_id": "chargerId",
    "id_tag": "idTag",
    "expiry_date": "expiryDate",
    "parent_id_tag": "parentIdTag",
}
HINTS = {"password": "; a lab may allow it with ?allowWeakPassword=true"}


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
    if isinstance(exc, InvalidField):
        field = FIELD_NAMES.get(exc.field, exc.field)
        detail = f"{field}: {exc.reason}{HINTS.get(exc.field, '')}"
        return ApiError(422, "InvalidField", detail, field=field)
    if isinstance(exc, InvalidOperation):
        return ApiError(422, "InvalidOperation", str(exc))
    if isinstance(exc, RequestValidationError):
        return _invalid_request(exc)
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


def _invalid_request(exc: RequestValidationError) -> ApiError:
    """A request that breaks its route's model: every problem, each with where it is."""
    problems = []
    for error in exc.errors():
        where = [str(part) for part in error.get("loc", ())]
        location, field = (where[0], ".".join(where[1:])) if where else ("request", "")
        problems.append({"location": location, "field": field, "message": error.get("msg", "")})
    detail = (
        "; ".join(f"{p['field'] or p['location']}: {p['message']}" for p in problems)
        or "Invalid request"
    )
    return ApiError(422, "InvalidRequest", detail, errors=problems)


def _http_error(request: Request, exc: HTTPException) -> ApiError:
    """Starlette's own: an unknown route (404), a method the route does not take (405)."""
    route = f"{request.method} {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        error = ApiError(404, "NotFound", f"No route {route}")
    elif exc.status_code == 405:
        # the methods some route of this path takes (Starlette's Allow names one route's only)
        allowed = [
            method
            for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
            if any(
                candidate.matches({**request.scope, "method": method})[0] == Match.FULL
                for candidate in request.app.router.routes
            )
        ]
        headers["Allow"] = ", ".join(allowed)
        error = ApiError(
            405, "MethodNotAllowed", f"{route}: not a method of this route", allowed=allowed
        )
    else:
        try:
            phrase = HTTPStatus(exc.status_code).phrase
        except ValueError:
            phrase = "Error"
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        error = ApiError(exc.status_code, phrase.replace(" ", ""), detail)
    error.headers.update(headers)
    return error


def _response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        _body(error.error, error.detail, **error.extra), error.status, headers=error.headers
    )


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, HTTPException):
        return _response(_http_error(request, exc))
    return _response(to_api_error(exc))


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    """A bug of ours, in the documented shape; Starlette raises it on, so uvicorn logs it."""
    return _response(ApiError(500, "InternalError", "Internal server error; see the CSMS's log"))


def install(app: FastAPI) -> None:
    for kind in (
        ApiError,
        InvalidField,
        InvalidOperation,
        RequestValidationError,
        HTTPException,
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
    app.add_exception_handler(Exception, _internal)
