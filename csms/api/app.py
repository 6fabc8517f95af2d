"""The FastAPI application of the CSMS: routes, authentication, docs, dashboard, metrics."""

from __future__ import annotations

import contextlib
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from ..cluster import ClusterUnavailable
from ..metrics import CONTENT_TYPE
from . import errors, operations, records, registry, variables
from .auth import token_matches
from .deps import Backend, Csms, given_token, require_token
from .errors import ApiError

DESCRIPTION = """\
The ocpp-bench CSMS over HTTP: the registry of chargers and id tags, transactions, the message
log, and every CSMS-initiated operation of OCPP 1.6 and 2.0.1. Every route but `/health`
needs the API token: `Authorization: Bearer <token>` (or `?token=` for a browser).
"""


SWAGGER_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")


def _swagger_dir() -> Path:
    """Swagger UI 5's files (it reads OpenAPI 3.1, which FastAPI writes), as the
    fastapi-offline package ships them for FastAPI's own `get_swagger_ui_html`."""
    return Path(str(resources.files("fastapi_offline").joinpath("static")))


def _page(name: str) -> str:
    return resources.files("csms.api").joinpath("static", name).read_text("utf-8")


def create_api(csms: Backend, token: str) -> FastAPI:
    api = FastAPI(
        title="ocpp-bench CSMS",
        description=DESCRIPTION,
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    api.state.csms = csms
    api.state.token = token
    errors.install(api)

    @api.get("/health", tags=["service"], summary="Liveness (no authentication)")
    async def health(csms: Csms) -> Any:
        """In a cluster, also this node's id and lead, and the live nodes with the chargers
        each holds; 503 while the cluster's database cannot be read."""
        found: dict[str, Any] = {"status": "ok", "connectedChargers": len(csms.registry)}
        cluster = csms.cluster
        if cluster is None:
            return found
        found.update(node=cluster.node_id, leader=cluster.leader)
        try:
            nodes = await cluster.refresh()
        except ClusterUnavailable as exc:
            return JSONResponse({**found, "status": "unavailable", "reason": str(exc)}, 503)
        found["cluster"] = {"nodes": nodes, "connectedChargers": sum(n["chargers"] for n in nodes)}
        return found

    @api.get("/", include_in_schema=False)
    async def dashboard(request: Request) -> HTMLResponse:
        """The dashboard for a valid `?token=`; else a page that asks for the token."""
        given = given_token(request, None)
        if given and token_matches(given, request.app.state.token):
            return HTMLResponse(_page("dashboard.html"))
        return HTMLResponse(_page("login.html"), status_code=401)

    protected = APIRouter(dependencies=[Depends(require_token)])

    @protected.get("/metrics", tags=["service"], summary="Prometheus metrics")
    async def metrics(csms: Csms) -> Response:
        if csms.cluster is not None:
            with contextlib.suppress(ClusterUnavailable):  # else: the nodes as last read
                await csms.cluster.refresh()
        return Response(csms.metrics.exposition(), media_type=CONTENT_TYPE)

    @protected.get("/openapi.json", include_in_schema=False)
    async def openapi() -> dict[str, Any]:
        return api.openapi()

    @protected.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        """Swagger UI, its assets served from here (no CDN): labs are often offline."""
        token = "?token=" + quote(given_token(request, None), safe="")
        return get_swagger_ui_html(
            openapi_url=f"/openapi.json{token}",
            title=api.title,
            swagger_js_url=f"/docs/assets/swagger-ui-bundle.js{token}",
            swagger_css_url=f"/docs/assets/swagger-ui.css{token}",
            swagger_favicon_url=f"/docs/assets/favicon.png{token}",
        )

    @protected.get("/docs/assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        if name not in SWAGGER_ASSETS:
            raise ApiError(404, "NotFound", f"No asset {name}")
        return FileResponse(_swagger_dir() / name)

    for router in (registry.router, records.router, variables.router, operations.router):
        protected.include_router(router)
    api.include_router(protected)
    return api
