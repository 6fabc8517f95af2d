"""Checking a step when its file loads: one kind, arguments as the step schema says, an action
OCPP 1.6 defines, a `send` payload that keeps to the schema (unless `raw`)."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema

from ocppj import V16
from ocppj.errors import OcppError

from .source import ScenarioError, line_of, message, schema

_SCHEMA = schema()
KINDS = sorted(_SCHEMA["definitions"]["steps"])


@functools.cache
def _validator(kind: str) -> Callable[[Any], Any]:
    """The step's schema, compiled the first time a step of its kind loads."""
    spec = _SCHEMA["definitions"]["steps"][kind]
    validate: Callable[[Any], Any] = fastjsonschema.compile(
        {"definitions": _SCHEMA["definitions"], **spec}
    )
    return validate


def check_step(path: Path, node: Any) -> tuple[str, Any, str | None]:
    line = getattr(node, "line", None)
    if not isinstance(node, dict):
        raise ScenarioError(
            path, line, f"a step is a mapping like 'plug_in: {{connector: 1}}', got {node!r}"
        )
    cp = node.get("cp")
    kinds = [key for key in node if key != "cp"]
    if len(kinds) != 1:
        raise ScenarioError(path, line, f"a step has exactly one kind, got {kinds or 'none'}")
    kind = kinds[0]
    if kind not in _SCHEMA["definitions"]["steps"]:
        raise ScenarioError(path, line, f"unknown step {kind!r}; known steps: {', '.join(KINDS)}")
    try:
        _validator(kind)(node[kind])
    except fastjsonschema.JsonSchemaValueException as exc:
        keys = [str(k) for k in (exc.path or [])[1:]]
        text = message(exc, f"{kind}.")
        raise ScenarioError(path, line_of(node, [kind, *keys]) or line, text) from exc
    problem = _action_problem(kind, node[kind])
    if problem is not None:
        raise ScenarioError(path, line_of(node, [kind, "action"]) or line, problem)
    return kind, node[kind], cp


def _has_variables(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_has_variables(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_variables(item) for item in value)
    return False


def _action_problem(kind: str, args: Any) -> str | None:
    """An unknown action, or a `send` payload that breaks the schema (unless `raw`)."""
    if kind not in ("send", "csms", "expect_call", "expect_sent", "expect_not_sent", "outcome"):
        return None
    action = args["action"]
    if kind == "send" and args.get("raw"):
        return None
    if action not in V16.actions:
        close = difflib.get_close_matches(action, sorted(V16.actions), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raw = " (raw: true sends it as it is)" if kind == "send" else ""
        return f"{kind}: {action!r} is not an OCPP 1.6 action{hint}{raw}"
    payload = args.get("payload", {})
    if kind == "send" and not _has_variables(payload):
        try:
            V16.validate(action, payload)
        except OcppError as exc:
            return (
                f"send: the {action} payload breaks the OCPP 1.6 schema: {exc.description}; "
                "fix it, or add raw: true to send it as it is"
            )
    return None
