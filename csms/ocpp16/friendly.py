"""The API's friendly operations (`/api/operations/...`) as 1.6 requests: the API's fields
are 1.6's own."""

from __future__ import annotations

from typing import Any

from ..adapter import InvalidOperation

Payload = dict[str, Any]

ACTIONS = {
    "remote-start": "RemoteStartTransaction",
    "remote-stop": "RemoteStopTransaction",
    "reset": "Reset",
    "change-configuration": "ChangeConfiguration",
    "get-configuration": "GetConfiguration",
}
RENAMES = {"get-configuration": {"keys": "key"}}


def request_for(name: str, fields: Payload) -> tuple[str, Payload]:
    """The action and payload of friendly operation `name` with the API's `fields`."""
    action = ACTIONS.get(name)
    if action is None:
        raise InvalidOperation(f"no operation {name!r}")
    renames = RENAMES.get(name, {})
    return action, {renames.get(key, key): value for key, value in fields.items()}
