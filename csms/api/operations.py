"""Make the CSMS act: `POST /api/chargers/{id}/ocpp/{Action}` for every CSMS-initiated
OCPP 1.6 action, and the friendly `/api/operations/...` routes over the same thing.

The answer is the charger's response payload as it came over the wire.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field

from ..versions import DEFAULT
from .deps import Csms

router = APIRouter(prefix="/api", tags=["operations"])

Timeout = Annotated[
    float | None,
    Query(gt=0, le=300, description="seconds to wait for the charger (default: call timeout)"),
]
Payload = dict[str, Any]


@router.get("/ocpp/actions", summary="The CSMS-initiated OCPP 1.6 actions, by profile")
async def list_actions() -> dict[str, list[str]]:
    return {profile: list(actions) for profile, actions in DEFAULT.actions_by_profile.items()}


@router.post(
    "/chargers/{charger_id}/ocpp/{action}",
    summary="Send any CSMS-initiated OCPP 1.6 action",
    description=(
        "The body is the OCPP payload (camelCase, as on the wire); it is checked against the "
        "OCPP 1.6 schema before anything is sent. Actions: "
        + ", ".join(sorted(DEFAULT.csms_actions))
    ),
)
async def send_action(
    csms: Csms,
    charger_id: str,
    action: str,
    payload: Annotated[Payload | None, Body()] = None,
    timeout: Timeout = None,
) -> Payload:
    return await csms.operations.send(charger_id, action, payload or {}, timeout)


class _Operation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chargerId: str


class RemoteStart(_Operation):
    idTag: str = Field(max_length=20)
    connectorId: int | None = Field(default=None, gt=0)
    chargingProfile: Payload | None = None


class RemoteStop(_Operation):
    transactionId: int


class Reset(_Operation):
    type: Literal["Hard", "Soft"] = "Soft"


class ChangeConfiguration(_Operation):
    key: str = Field(max_length=50)
    value: str = Field(max_length=500)


class GetConfiguration(_Operation):
    keys: list[str] | None = None


def _payload(body: BaseModel, **renames: str) -> Payload:
    fields = body.model_dump(exclude_none=True, exclude={"chargerId"})
    return {renames.get(key, key): value for key, value in fields.items()}


@router.post("/operations/remote-start", summary="RemoteStartTransaction")
async def remote_start(csms: Csms, body: RemoteStart, timeout: Timeout = None) -> Payload:
    return await csms.operations.send(
        body.chargerId, "RemoteStartTransaction", _payload(body), timeout
    )


@router.post("/operations/remote-stop", summary="RemoteStopTransaction")
async def remote_stop(csms: Csms, body: RemoteStop, timeout: Timeout = None) -> Payload:
    return await csms.operations.send(
        body.chargerId, "RemoteStopTransaction", _payload(body), timeout
    )


@router.post("/operations/reset", summary="Reset")
async def reset(csms: Csms, body: Reset, timeout: Timeout = None) -> Payload:
    return await csms.operations.send(body.chargerId, "Reset", _payload(body), timeout)


@router.post("/operations/change-configuration", summary="ChangeConfiguration")
async def change_configuration(
    csms: Csms, body: ChangeConfiguration, timeout: Timeout = None
) -> Payload:
    return await csms.operations.send(
        body.chargerId, "ChangeConfiguration", _payload(body), timeout
    )


@router.post("/operations/get-configuration", summary="GetConfiguration")
async def get_configuration(csms: Csms, body: GetConfiguration, timeout: Timeout = None) -> Payload:
    return await csms.operations.send(
        body.chargerId, "GetConfiguration", _payload(body, keys="key"), timeout
    )
