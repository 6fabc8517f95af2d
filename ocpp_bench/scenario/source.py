"""Where a scenario file is wrong: the error that names file and line, finding a key's line,
wording a schema error; and the shipped JSON Schema of scenario files."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema


class ScenarioError(Exception):
    """A scenario file problem, located: `file:line: message`; `scenario_id` names the
    scenario it breaks (None: the whole file)."""

    def __init__(
        self, path: Path | str, line: int | None, message: str, scenario_id: str | None = None
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        self.scenario_id = scenario_id
        super().__init__(f"{path}:{line or '?'}: {message}")


def schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("scenario.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def line_of(data: Any, keys: list[str]) -> int | None:
    line, node = getattr(data, "line", None), data
    for key in keys:
        try:
            child = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, ValueError, TypeError):
            break
        line = getattr(child, "line", None) or getattr(node, "key_lines", {}).get(key, line)
        node = child
    return line


def message(exc: fastjsonschema.JsonSchemaValueException, prefix: str = "") -> str:
    text = exc.message.replace("data.", prefix, 1).replace("data[", prefix.rstrip(".") + "[", 1)
    return text.replace("data ", (prefix.rstrip(".") or "the file") + " ", 1)
