"""Request dependencies: the running CSMS and the bearer-token check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..app import CsmsApp
from .auth import token_matches
from .errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")


def get_csms(request: Request) -> CsmsApp:
    csms: CsmsApp = request.app.state.csms
    return csms


def given_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str:
    """The bearer token of the request; browsers may pass `?token=` instead."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials
    return request.query_params.get("token", "")


async def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected: str = request.app.state.token
    given = given_token(request, credentials)
    if not given or not token_matches(given, expected):
        error = ApiError(
            401,
            "Unauthorized",
            "A valid API token is required: Authorization: Bearer <token>",
        )
        error.headers["WWW-Authenticate"] = 'Bearer realm="ocpp-bench"'
        raise error


Csms = Annotated[CsmsApp, Depends(get_csms)]
