"""Make the CSMS act: `POST /api/chargers/{id}/ocpp/{Action}` for every CSMS-initiated
action of the OCPP version the charger speaks, and the friendly `/api/operations/...` routes
over the same thing, in either version.

The answer is the charger's response payload as it came over the wire.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field

from ..versions import ADAPTERS, DEFAULT
from .deps import Csms

router = APIRouter(prefix="/api", tags=["operations"])

Timeout = Annotated[
    float | None,
    Query(gt=0, le=300, description="seconds to wait for the charger (default: call timeout)"),
]
Payload = dict[str, Any]


@router.get("/ocpp/actions", summary="The CSMS-initiated OCPP actions, by profile (block)")
async def list_actions(
    version: Annotated[Literal["1.6", "2.0.1"], Query(description="OCPP version")] = "1.6",
) -> dict[str, list[str]]:
    adapter = next(a for a in ADAPTERS.values() if a.dialect.version == version)
    return {profile: list(actions) for profile, actions in adapter.actions_by_profile.items()}


@router.post(
    "/chargers/{charger_id}/ocpp/{action}",
    summary="Send any CSMS-initiated OCPP action of the charger's version",
    description=(
        "The body is the OCPP payload (camelCase, as on the wire); it is checked against the "
        "schema of the version the charger's live connection speaks (1.6 while it is not "
        "connected) before anything is sent. 1.6 actions: "
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


def _fields(body: BaseModel) -> Payload:
    return body.model_dump(exclude_none=True, exclude={"chargerId"})


@router.post("/operations/remote-start", summary="Start a transaction remotely")
async def remote_start(csms: Csms, body: RemoteStart, timeout: Timeout = None) -> Payload:
    """1.6: RemoteStartTransaction; 2.0.1: RequestStartTransaction (idToken of type Central,
    a new remoteStartId, `connectorId` as the evseId)."""
    return await csms.operations.perform(body.chargerId, "remote-start", _fields(body), timeout)


@router.post("/operations/remote-stop", summary="Stop a transaction remotely")
async def remote_stop(csms: Csms, body: RemoteStop, timeout: Timeout = None) -> Payload:
    """1.6: RemoteStopTransaction; 2.0.1: RequestStopTransaction with the station's own id of
    the transaction (`transactionId` is the CSMS's number, as `/api/transactions` lists)."""
    return await csms.operations.perform(body.chargerId, "remote-stop", _fields(body), timeout)


@router.post("/operations/reset", summary="Reset")
async def reset(csms: Csms, body: Reset, timeout: Timeout = None) -> Payload:
    """1.6: Reset; 2.0.1: Reset, Hard as Immediate and Soft as OnIdle."""
    return await csms.operations.perform(body.chargerId, "reset", _fields(body), timeout)


@router.post("/operations/change-configuration", summary="Change a setting")
async def change_configuration(
    csms: Csms, body: ChangeConfiguration, timeout: Timeout = None
) -> Payload:
    """1.6: ChangeConfiguration; 2.0.1: SetVariables, `key` as Component.Variable."""
    fields = _fields(body)
    return await csms.operations.perform(body.chargerId, "change-configuration", fields, timeout)


@router.post("/operations/get-configuration", summary="Read settings")
async def get_configuration(csms: Csms, body: GetConfiguration, timeout: Timeout = None) -> Payload:
    """1.6: GetConfiguration; 2.0.1: GetVariables of the `keys` (Component.Variable), or
    without keys GetBaseReport FullInventory (the report comes as NotifyReport)."""
    fields = _fields(body)
    return await csms.operations.perform(body.chargerId, "get-configuration", fields, timeout)
