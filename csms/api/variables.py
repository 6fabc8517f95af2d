"""A 2.0.1 station's device model: `GET /api/chargers/{id}/variables`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from . import views
from .deps import Csms
from .errors import ApiError

router = APIRouter(prefix="/api", tags=["records"])


@router.get(
    "/chargers/{charger_id}/variables",
    summary="A station's device model (2.0.1): its components' variables",
)
async def list_variables(
    csms: Csms, charger_id: str, component: str | None = None
) -> dict[str, Any]:
    """What NotifyReport, GetVariables and accepted SetVariables told; `component` keeps
    one component's."""
    if await csms.services.chargers.get(charger_id) is None:
        raise ApiError(404, "UnknownCharger", f"Unknown charger {charger_id}", chargerId=charger_id)
    rows = await csms.services.device_model.variables(charger_id)
    if component is not None:
        rows = [row for row in rows if row["component"] == component]
    return {"items": [views.variable(row) for row in rows]}
