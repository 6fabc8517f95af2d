"""An adapter kit for ocpp-bench's `http` driver: the three routes of the convention over a
`Backend` you write for your CSMS (call its own API, its library, its database).

    uvicorn examples.http_adapter.adapter:app   # with your backend set in `make_app`

- POST /api/chargers                      {chargerId, password?, securityProfile?}
- POST /api/id-tags                       {idTag, status, expiryDate?, parentIdTag?}
  PUT  /api/id-tags/{idTag}               {status, expiryDate?, parentIdTag?}
- POST /api/chargers/{id}/ocpp/{Action}?timeout=S   the OCPP payload; answers the charger's

Errors: 409 when a charger or tag exists, 404 for a charger that is not connected, 502 when
the charger answered a CALLERROR, 504 when it did not answer in time; each with a reason.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import Body, FastAPI, HTTPException

Payload = dict[str, Any]


class Exists(Exception):
    """The charger or tag is registered already (409)."""


class NotConnected(Exception):
    """The charger is not connected (404)."""


class ChargerError(Exception):
    """The charger answered a CALLERROR (502)."""


class Backend(Protocol):
    """What you write: how your CSMS registers chargers and tags and sends an operation."""

    async def register_charger(
        self, charger_id: str, password: str | None, security_profile: int | None
    ) -> None: ...

    async def register_tag(
        self, id_tag: str, status: str, expiry: str | None, parent: str | None, update: bool
    ) -> None: ...

    async def send(self, charger_id: str, action: str, payload: Payload, timeout: float) -> Payload:
        """Make the CSMS send `action` to the charger; the charger's answer payload.
        TimeoutError when it does not answer."""
        ...


def make_app(backend: Backend) -> FastAPI:
    app = FastAPI(title="ocpp-bench http adapter")

    @app.post("/api/chargers", status_code=201)
    async def add_charger(body: Payload = Body(...)) -> Payload:  # noqa: B008
        try:
            await backend.register_charger(
                body["chargerId"], body.get("password"), body.get("securityProfile")
            )
        except Exists as exc:
            raise HTTPException(409, f"charger {body['chargerId']} exists") from exc
        return {"chargerId": body["chargerId"]}

    @app.post("/api/id-tags", status_code=201)
    async def add_tag(body: Payload = Body(...)) -> Payload:  # noqa: B008
        try:
            await _tag(backend, body["idTag"], body, update=False)
        except Exists as exc:
            raise HTTPException(409, f"id tag {body['idTag']} exists") from exc
        return {"idTag": body["idTag"]}

    @app.put("/api/id-tags/{id_tag}")
    async def put_tag(id_tag: str, body: Payload = Body(...)) -> Payload:  # noqa: B008
        await _tag(backend, id_tag, body, update=True)
        return {"idTag": id_tag}

    @app.post("/api/chargers/{charger_id}/ocpp/{action}")
    async def operation(
        charger_id: str,
        action: str,
        timeout: float = 30.0,
        payload: Payload = Body(default_factory=dict),  # noqa: B008
    ) -> Payload:
        try:
            return await backend.send(charger_id, action, payload, timeout)
        except NotConnected as exc:
            raise HTTPException(404, f"charger {charger_id} is not connected") from exc
        except ChargerError as exc:
            raise HTTPException(502, f"the charger answered CALLERROR {exc}") from exc
        except TimeoutError as exc:
            raise HTTPException(504, f"no answer from {charger_id} within {timeout:g} s") from exc

    return app


async def _tag(backend: Backend, id_tag: str, body: Payload, update: bool) -> None:
    await backend.register_tag(
        id_tag, body.get("status", "Accepted"), body.get("expiryDate"), body.get("parentIdTag"),
        update,
    )  # fmt: skip
