"""Request dependencies: what the API works with, and the bearer-token check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..cluster import Cluster
from ..config import CsmsConfig
from ..connections import ConnectionRegistry
from ..metrics import Metrics
from ..operations import Operations
from ..services import Services
from .auth import token_matches
from .errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")


@dataclass(frozen=True, slots=True)
class Backend:
    """What the HTTP API works with, handed over by the CSMS process when it starts: the
    domain services, the CSMS-initiated operations, the live connections, the metrics, and
    in a cluster this node's part in it."""

    services: Services
    operations: Operations
    registry: ConnectionRegistry
    metrics: Metrics
    cluster: Cluster | None = None

    @property
    def config(self) -> CsmsConfig:
        return self.services.config


def get_csms(request: Request) -> Backend:
    csms: Backend = request.app.state.csms
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


Csms = Annotated[Backend, Depends(get_csms)]
