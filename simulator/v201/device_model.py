"""A 2.0.1 station's device model: its variables' values (those set on it; the others are
their defaults, or the station's state for the live ones), looked up as the CSMS names them
(case-insensitive, per component, instance, EVSE and connector) or as its users do
("HeartbeatInterval", "TxCtrlr.TxStartPoint", a 1.6 key name), set with the checks of its
characteristics, and written as GetVariables/SetVariables results and report data."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .variables import ALIASES, RO, WO, Variable, definitions

__all__ = ["DeviceModel", "Live"]

Payload = dict[str, Any]
# The station's state behind a live variable: (variable, attribute) -> value (None: stored)
Live = Callable[[Variable, str], str | None]
_Place = tuple[str, str, int | None, int | None]  # component, its instance, EVSE, connector


def _place(component: Mapping[str, Any]) -> _Place:
    evse = component.get("evse") or {}
    return (
        str(component["name"]).lower(),
        str(component.get("instance") or "").lower(),
        evse.get("id"),
        evse.get("connectorId"),
    )


@functools.cache
def _index(topology: tuple[int, ...]) -> dict[_Place, dict[tuple[str, str], Variable]]:
    index: dict[_Place, dict[tuple[str, str], Variable]] = {}
    for var in definitions(topology):
        place = (var.component.lower(), "", var.evse, var.connector)
        index.setdefault(place, {})[var.name.lower(), (var.instance or "").lower()] = var
    return index


@functools.cache
def _names(topology: tuple[int, ...]) -> dict[str, Variable | None]:
    """Keys (`Component.Variable[Instance]`) and, where only one variable has it, plain
    names, lower-cased; None for a plain name several variables have."""
    names: dict[str, Variable | None] = {}
    for var in definitions(topology):
        names[var.key.lower()] = var
        if var.evse is None:
            plain = var.name.lower()
            names[plain] = None if plain in names else var
    return names


def component_of(var: Variable) -> Payload:
    component: Payload = {"name": var.component}
    if var.evse is not None:
        evse: Payload = {"id": var.evse}
        if var.connector is not None:
            evse["connectorId"] = var.connector
        component["evse"] = evse
    return component


def variable_of(var: Variable) -> Payload:
    return {"name": var.name, **({"instance": var.instance} if var.instance else {})}


def problem(var: Variable, value: str) -> str | None:
    """Why `value` does not fit `var`'s characteristics (None: it does)."""
    kind = var.data_type
    if kind in ("integer", "decimal"):
        try:
            number = int(value) if kind == "integer" else float(value)
        except ValueError:
            return f"not {'an integer' if kind == 'integer' else 'a decimal'}"
        if var.min_limit is not None and number < var.min_limit:
            return f"below {var.min_limit:g}"
        if var.max_limit is not None and number > var.max_limit:
            return f"above {var.max_limit:g}"
        return None
    if kind == "boolean":
        return None if value.lower() in ("true", "false") else "not true or false"
    if kind == "dateTime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "not a date-time"
        return None
    if var.max_limit is not None and len(value) > var.max_limit:
        return f"longer than {var.max_limit:g}"
    if kind == "string":
        if var.min_limit is not None and len(value) < var.min_limit:
            return f"shorter than {var.min_limit:g}"
        return None
    items = [item.strip() for item in value.split(",")] if kind != "OptionList" else [value]
    allowed = var.values_list
    if allowed is not None:
        wrong = [item for item in items if item and item not in allowed]
        if wrong or (kind == "OptionList" and not value):
            return f"{', '.join(wrong) or repr(value)} not in {','.join(allowed)}"
    if kind == "SequenceList" and len(set(items)) != len(items):
        return "an item repeated"
    return None


def _info(code: str, text: str) -> Payload:
    return {"reasonCode": code, "additionalInfo": text}


class DeviceModel:
    """The variables of one station; the definitions are shared, the values its own."""

    __slots__ = ("_live", "_topology", "_values", "on_change")

    def __init__(self, topology: tuple[int, ...], live: Live) -> None:
        self._topology = topology
        self._live = live
        self._values: dict[tuple[str, str], str] = {}  # (variable key, attribute) -> value
        # told of each value set, by the CSMS or locally: (variable, its new Actual value)
        self.on_change: Callable[[Variable, str], None] | None = None

    @property
    def variables(self) -> tuple[Variable, ...]:
        return definitions(self._topology)

    # -- by name, for the station and its users ----------------------------------------------

    def resolve(self, name: str) -> Variable:
        """The variable a user means: a 1.6 key name, a plain name only one variable has, or
        `Component.Variable[Instance]` (KeyError otherwise)."""
        found = _names(self._topology).get(ALIASES.get(name, name).lower())
        if found is None:
            raise KeyError(f"no single device-model variable {name!r}")
        return found

    def value(self, var: Variable, attribute: str = "Actual") -> str:
        if var.live:
            live = self._live(var, attribute)
            if live is not None:
                return live
        return self._values.get((var.key, attribute), var.default_of(attribute))

    def get(self, name: str) -> str:
        return self.value(self.resolve(name))

    def get_int(self, name: str) -> int:
        return int(float(self.get(name) or 0))

    def get_bool(self, name: str) -> bool:
        return self.get(name).lower() == "true"

    def get_list(self, name: str) -> list[str]:
        return [item.strip() for item in self.get(name).split(",") if item.strip()]

    def set(self, name: str, value: str | int | bool) -> None:
        """Set a value locally (read-only ones too), as at installation."""
        text = str(value).lower() if isinstance(value, bool) else str(value)
        self.store(self.resolve(name), text)

    def store(self, var: Variable, value: str, attribute: str = "Actual") -> None:
        self._values[var.key, attribute] = value
        if attribute == "Actual" and self.on_change is not None:
            self.on_change(var, value)

    # -- as the CSMS names them --------------------------------------------------------------

    def lookup(self, component: Mapping[str, Any], variable: Mapping[str, Any]) -> Variable | str:
        """The variable, or UnknownComponent / UnknownVariable."""
        variables = _index(self._topology).get(_place(component))
        if variables is None:
            return "UnknownComponent"
        found = variables.get(
            (str(variable["name"]).lower(), str(variable.get("instance") or "").lower())
        )
        return "UnknownVariable" if found is None else found

    def get_variable(self, item: Mapping[str, Any]) -> Payload:
        """One GetVariableResult for one GetVariableData."""
        attribute = item.get("attributeType", "Actual")
        result: Payload = {"component": item["component"], "variable": item["variable"]}
        if "attributeType" in item:
            result["attributeType"] = attribute
        var = self.lookup(item["component"], item["variable"])
        if isinstance(var, str):
            return {**result, "attributeStatus": var}
        if attribute not in var.attributes:
            return {**result, "attributeStatus": "NotSupportedAttributeType"}
        if var.mutability == WO:
            info = _info("WriteOnly", f"{var.key} can be set, not read")
            return {**result, "attributeStatus": "Rejected", "attributeStatusInfo": info}
        size = self.get_int("DeviceDataCtrlr.ReportingValueSize")
        value = self.value(var, attribute)[:size]
        return {**result, "attributeStatus": "Accepted", "attributeValue": value}

    def set_variable(self, item: Mapping[str, Any]) -> tuple[Payload, Variable | None]:
        """One SetVariableResult for one SetVariableData, and the variable set (if it was)."""
        attribute = item.get("attributeType", "Actual")
        value: str = item["attributeValue"]
        result: Payload = {
            "attributeType": attribute,
            "component": item["component"],
            "variable": item["variable"],
        }
        var = self.lookup(item["component"], item["variable"])
        if isinstance(var, str):
            return {**result, "attributeStatus": var}, None
        if attribute not in var.attributes:
            return {**result, "attributeStatus": "NotSupportedAttributeType"}, None
        why = "read-only" if var.mutability == RO or var.live else problem(var, value)
        if why is not None:
            code = "ReadOnly" if why == "read-only" else "InvalidValue"
            info = _info(code, f"{var.key}: {why}")
            return {**result, "attributeStatus": "Rejected", "attributeStatusInfo": info}, None
        self.store(var, value.lower() if var.data_type == "boolean" else value, attribute)
        status = "RebootRequired" if var.reboot_required else "Accepted"
        return {**result, "attributeStatus": status}, var

    def report_data(self, var: Variable) -> Payload:
        """The ReportData of one variable: every attribute, and its characteristics."""
        size = self.get_int("DeviceDataCtrlr.ReportingValueSize")
        attributes = []
        for attribute in var.attributes:
            entry: Payload = {"type": attribute, "mutability": var.mutability}
            if var.mutability != WO:
                entry["value"] = self.value(var, attribute)[:size]
            entry["persistent"] = not var.live
            entry["constant"] = var.mutability == RO and not var.live
            attributes.append(entry)
        characteristics: Payload = {"dataType": var.data_type, "supportsMonitoring": False}
        if var.unit:
            characteristics["unit"] = var.unit
        if var.min_limit is not None:
            characteristics["minLimit"] = var.min_limit
        if var.max_limit is not None:
            characteristics["maxLimit"] = var.max_limit
        if var.values_list:
            characteristics["valuesList"] = ",".join(var.values_list)
        return {
            "component": component_of(var),
            "variable": variable_of(var),
            "variableAttribute": attributes,
            "variableCharacteristics": characteristics,
        }
