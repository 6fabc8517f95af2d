"""Checking a step when its file loads: one kind, arguments as the step schema says, an action
the OCPP version of its charge point defines, a `send` payload that keeps to that version's
schema (unless `raw`)."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema

from ocppj import KNOWN, Dialect
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


DIALECTS = {dialect.version: dialect for dialect in KNOWN.values()}


def check_step(
    path: Path, node: Any, version_of: Callable[[str | None], str] = lambda cp: "1.6"
) -> tuple[str, Any, str | None]:
    """(kind, arguments, charge point) of a step; `version_of(cp)`: the OCPP version of the
    charge point it names (None: the scenario's first)."""
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
    problem = _action_problem(kind, node[kind], DIALECTS[version_of(cp)])
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


def _action_problem(kind: str, args: Any, dialect: Dialect) -> str | None:
    """An unknown action, or a `send` payload that breaks the schema (unless `raw`)."""
    if kind not in ("send", "csms", "expect_call", "expect_sent", "expect_not_sent", "outcome"):
        return None
    action = args["action"]
    if kind == "send" and args.get("raw"):
        return None
    if action not in dialect.actions:
        close = difflib.get_close_matches(action, sorted(dialect.actions), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raw = " (raw: true sends it as it is)" if kind == "send" else ""
        return f"{kind}: {action!r} is not an OCPP {dialect.version} action{hint}{raw}"
    payload = args.get("payload", {})
    if kind == "send" and not _has_variables(payload):
        try:
            dialect.validate(action, payload)
        except OcppError as exc:
            return (
                f"send: the {action} payload breaks the OCPP {dialect.version} schema: "
                f"{exc.description}; "
                "fix it, or add raw: true to send it as it is"
            )
    return None
