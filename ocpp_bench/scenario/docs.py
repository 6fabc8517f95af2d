"""The README's table of steps, made from the step schema so the two cannot drift.

python -m ocpp_bench.scenario.docs   # prints the table
"""

from __future__ import annotations

from typing import Any

from .source import schema

_FREE_FORM = {
    "configure": "`KEY: value` pairs",
    "set": "`name: value` pairs",
    "wait": "seconds, a number",
}


def _arguments(kind: str, spec: dict[str, Any], definitions: dict[str, Any]) -> str:
    if kind in _FREE_FORM:
        return _FREE_FORM[kind]
    for part in spec.get("allOf", []):
        spec = {**definitions[part["$ref"].rsplit("/", 1)[1]], **spec}
    properties = spec.get("properties", {})
    if not properties:
        return "none"
    required = set(spec.get("required", []))
    names = [f"`{name}`" + ("\\*" if name in required else "") for name in properties]
    return ", ".join(names)


def steps_table() -> str:
    definitions = schema()["definitions"]
    rows = [
        "| step | arguments (\\* required) | what it does |",
        "|---|---|---|",
    ]
    for kind, spec in definitions["steps"].items():
        description = spec.get("description", "")
        rows.append(f"| `{kind}` | {_arguments(kind, spec, definitions)} | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(steps_table())
