"""The API's friendly operations (`/api/operations/...`) as 2.0.1 requests."""

from __future__ import annotations

import secrets
from typing import Any

from ..adapter import InvalidOperation
from ..services import Services

Payload = dict[str, Any]

RESET_TYPES = {"Hard": "Immediate", "Soft": "OnIdle"}


def _component_variable(key: str) -> Payload:
    """`Component.Variable` (the API's key of a device model variable)."""
    component, dot, name = key.partition(".")
    if not dot or not component or not name:
        example = "OCPPCommCtrlr.HeartbeatInterval"
        raise InvalidOperation(f"{key!r}: a 2.0.1 key is Component.Variable, e.g. {example}")
    return {"component": {"name": component}, "variable": {"name": name}}


def new_id() -> int:
    """A fresh remoteStartId or requestId (the station echoes it; any positive integer)."""
    return secrets.randbelow(2**31 - 1) + 1


async def request_for(
    services: Services, charger_id: str, name: str, fields: Payload
) -> tuple[str, Payload]:
    """The action and payload of friendly operation `name` with the API's `fields`."""
    if name == "remote-start":
        tag = await services.tags.get(fields["idTag"])
        token_type = (tag and tag["token_type"]) or "Central"
        payload: Payload = {
            "idToken": {"idToken": fields["idTag"], "type": token_type},
            "remoteStartId": new_id(),
        }
        if fields.get("connectorId") is not None:
            payload["evseId"] = fields["connectorId"]
        if fields.get("chargingProfile") is not None:
            payload["chargingProfile"] = fields["chargingProfile"]
        return "RequestStartTransaction", payload
    if name == "remote-stop":
        row = await services.transactions.get(fields["transactionId"])
        if row is None or row["charger_id"] != charger_id or not row["station_transaction_id"]:
            raise InvalidOperation(
                f"transaction {fields['transactionId']} is no transaction of station {charger_id}"
            )
        return "RequestStopTransaction", {"transactionId": row["station_transaction_id"]}
    if name == "reset":
        return "Reset", {"type": RESET_TYPES[fields.get("type", "Soft")]}
    if name == "change-configuration":
        data = {**_component_variable(fields["key"]), "attributeValue": fields["value"]}
        return "SetVariables", {"setVariableData": [data]}
    if name == "get-configuration":
        keys = fields.get("keys")
        if not keys:
            return "GetBaseReport", {"requestId": new_id(), "reportBase": "FullInventory"}
        return "GetVariables", {"getVariableData": [_component_variable(key) for key in keys]}
    raise InvalidOperation(f"no operation {name!r}")
