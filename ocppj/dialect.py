"""What differs between OCPP versions at the RPC level: subprotocol, schemas, error spellings.

Payloads are checked with validators compiled once per action by fastjsonschema (about 20x
faster than jsonschema) from the JSON schemas the `ocpp` package ships.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import fastjsonschema

from .errors import (
    FormationViolation,
    NotImplementedAction,
    OccurenceConstraintViolation,
    OcppError,
    PropertyConstraintViolation,
    TypeConstraintViolation,
)

Validator = Callable[[dict[str, Any]], Any]

_RULE_ERRORS: dict[str, type[OcppError]] = {
    "type": TypeConstraintViolation,
    "required": OccurenceConstraintViolation,
    "minItems": OccurenceConstraintViolation,
    "maxItems": OccurenceConstraintViolation,
    "enum": PropertyConstraintViolation,
    "maxLength": PropertyConstraintViolation,
    "minLength": PropertyConstraintViolation,
    "minimum": PropertyConstraintViolation,
    "maximum": PropertyConstraintViolation,
    "multipleOf": PropertyConstraintViolation,
    "format": PropertyConstraintViolation,
    "pattern": PropertyConstraintViolation,
    "const": PropertyConstraintViolation,
}


@dataclass
class Dialect:
    """One OCPP version's RPC rules."""

    version: str
    subprotocol: str
    schema_package: str
    wire_codes: Mapping[str, str] = field(default_factory=dict)
    # schema file names: 1.6 ships Authorize.json, 2.0.1 AuthorizeRequest.json
    request_suffix: str = ""
    response_suffix: str = "Response"
    _validators: dict[str, Validator] = field(default_factory=dict, repr=False)
    _actions: frozenset[str] | None = field(default=None, repr=False)

    @property
    def actions(self) -> frozenset[str]:
        """Every action the version defines (request schemas present)."""
        if self._actions is None:
            names = [p.name[:-5] for p in resources.files(self.schema_package).iterdir()]
            requests = [n for n in names if n.endswith(self.request_suffix)]
            if not self.request_suffix:  # no suffix of its own: all but the responses
                requests = [n for n in requests if not n.endswith(self.response_suffix)]
            self._actions = frozenset(n[: len(n) - len(self.request_suffix)] for n in requests)
        return self._actions

    def wire_code(self, code: str) -> str:
        return self.wire_codes.get(code, code)

    def schema(self, action: str, response: bool) -> dict[str, Any]:
        if action not in self.actions:
            raise NotImplementedAction(f"Unknown action {action!r}")
        name = f"{action}{self.response_suffix if response else self.request_suffix}.json"
        text = resources.files(self.schema_package).joinpath(name).read_text(encoding="utf-8")
        schema: dict[str, Any] = json.loads(text)
        return schema

    def validator(self, action: str, response: bool) -> Validator:
        key = f"{action}/{'res' if response else 'req'}"
        found = self._validators.get(key)
        if found is None:
            found = fastjsonschema.compile(self.schema(action, response))
            self._validators[key] = found
        return found

    def validate(self, action: str, payload: dict[str, Any], response: bool = False) -> None:
        """Raise the OcppError the spec prescribes when `payload` breaks the action's schema."""
        try:
            self.validator(action, response)(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            error_class = _RULE_ERRORS.get(exc.rule or "", FormationViolation)
            where = (exc.name or "data").replace("data", "payload", 1)
            message = exc.message.replace("data", "payload", 1)
            raise error_class(
                f"{action}{'Response' if response else ''}: {message}",
                {"field": where, "rule": exc.rule},
            ) from exc


V16 = Dialect(version="1.6", subprotocol="ocpp1.6", schema_package="ocpp.v16.schemas")

# OCPP-J 2.0.1 (part 4) spells two error codes anew and names its schemas XRequest/XResponse.
V201 = Dialect(
    version="2.0.1",
    subprotocol="ocpp2.0.1",
    schema_package="ocpp.v201.schemas",
    wire_codes={
        "FormationViolation": "FormatViolation",
        "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
    },
    request_suffix="Request",
)

# The versions our CSMS and simulator speak, by subprotocol, newest first.
DIALECTS: dict[str, Dialect] = {V201.subprotocol: V201, V16.subprotocol: V16}
KNOWN: dict[str, Dialect] = {d.subprotocol: d for d in (V16, V201)}
