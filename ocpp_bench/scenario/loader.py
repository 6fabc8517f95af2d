"""Read scenario files: YAML with line numbers, checked against the shipped JSON Schema.

Every problem is a `ScenarioError` that names the file, the line and what is wrong.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastjsonschema
import yaml

from .checks import check_step
from .matchers import Absent, AnyValue, InRange, Regex, TypeIs
from .source import ScenarioError, line_of, message, schema

DEFAULTS_FILE = "defaults.yaml"


class LineDict(dict[str, Any]):
    line = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    line = 0


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    seen: set[Any] = set()
    key_lines = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        seen.add(key)
        key_lines[key] = key_node.start_mark.line + 1
    result = LineDict(loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]
    result.line = node.start_mark.line + 1
    result.key_lines = key_lines
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_sequence(node, deep=True))
    result.line = node.start_mark.line + 1
    return result


def _scalar_tag(build: Any) -> Any:
    def construct(loader: _Loader, node: yaml.Node) -> Any:
        try:
            if isinstance(node, yaml.SequenceNode):
                return build(*loader.construct_sequence(node, deep=True))
            return build(loader.construct_scalar(node))  # type: ignore[arg-type]
        except (TypeError, ValueError, re.error) as exc:
            raise yaml.MarkedYAMLError(problem=str(exc), problem_mark=node.start_mark) from exc

    return construct


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
_Loader.add_constructor("!any", lambda loader, node: AnyValue())
_Loader.add_constructor("!absent", lambda loader, node: Absent())
_Loader.add_constructor("!type", _scalar_tag(TypeIs))
_Loader.add_constructor("!regex", _scalar_tag(Regex))
_Loader.add_constructor("!range", _scalar_tag(InRange))


@dataclass
class Step:
    kind: str
    args: Any
    line: int
    source: str  # the step's YAML, for failure reports
    cp: str | None = None


@dataclass
class Scenario:
    id: str
    title: str
    path: Path
    line: int
    ocpp: str = "1.6"
    tags: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)  # what the CSMS must declare, if any
    charge_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: str | None = None
    setup: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)


@functools.cache
def _validators() -> tuple[Any, Any]:
    """The file's outline (each scenario only an object) and one scenario, so that one broken
    scenario does not hide the others in its file."""
    full = schema()
    outline = json.loads(json.dumps(full))
    outline["properties"]["scenarios"]["items"] = {"type": "object"}
    one = {"definitions": full["definitions"], "$ref": "#/definitions/scenario"}
    return fastjsonschema.compile(outline), fastjsonschema.compile(one)


_FLOW_TAG_HINT = (
    "; in flow style a tag with no value needs a space before the bracket: {status: !any }"
)


def parse_yaml(path: Path, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = f"YAML error: {exc.problem or exc.context}"
        if "scanning a tag" in str(exc.context):
            problem += _FLOW_TAG_HINT
        raise ScenarioError(path, line, problem) from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, f"YAML error: {exc}") from exc


def _block(lines: list[str], line: int) -> str:
    """The YAML text of the list item starting at `line` (1-based)."""
    first = lines[line - 1]
    indent = len(first) - len(first.lstrip(" -"))
    block = [first]
    for text in lines[line:]:
        if text.strip() and len(text) - len(text.lstrip()) < indent:
            break
        block.append(text)
    return "\n".join(block).rstrip()


def check_schema(path: Path, data: Any) -> None:
    try:
        _validators()[0](data)
    except fastjsonschema.JsonSchemaValueException as exc:
        keys = [str(k) for k in (exc.path or [])[1:]]
        raise ScenarioError(path, line_of(data, keys), f"schema: {message(exc)}") from exc


def load_defaults(folder: Path) -> dict[str, Any]:
    """Defaults shared by every file in `folder` (its defaults.yaml), if there is one."""
    file = folder / DEFAULTS_FILE
    if not file.exists():
        return {}
    data = parse_yaml(file, file.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ScenarioError(file, getattr(data, "line", 1), "defaults must be a mapping")
    return data


def load_file(path: Path) -> list[Scenario]:
    """Parse and check one scenario file; raises ScenarioError at the first problem."""
    entries = load_entries(path)
    for entry in entries:
        if isinstance(entry, ScenarioError):
            raise entry
    return [entry for entry in entries if isinstance(entry, Scenario)]


def load_entries(path: Path) -> list[Scenario | ScenarioError]:
    """Each scenario of a file, or the problem that breaks it; a problem of the whole file
    (YAML, its outline, its defaults) is raised."""
    text = path.read_text(encoding="utf-8")
    data = parse_yaml(path, text)
    if not isinstance(data, dict):
        raise ScenarioError(path, 1, "a scenario file is a mapping with a 'scenarios' list")
    check_schema(path, data)
    defaults = {**load_defaults(path.parent), **data.get("defaults", {})}
    lines = text.splitlines()
    entries: list[Scenario | ScenarioError] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(data["scenarios"]):
        name = str(entry.get("id") or f"scenario-{index + 1}")
        try:
            entries.append(_scenario(path, entry, defaults, lines, seen))
        except ScenarioError as exc:
            exc.scenario_id = name
            entries.append(exc)
    return entries


def _scenario(
    path: Path, entry: Any, defaults: dict[str, Any], lines: list[str], seen: dict[str, int]
) -> Scenario:
    if entry.get("steps") == []:
        raise ScenarioError(path, entry.line, f"scenario {entry.get('id')} has no steps")
    try:
        _validators()[1](entry)
    except fastjsonschema.JsonSchemaValueException as exc:
        keys = [str(k) for k in (exc.path or [])[1:]]
        raise ScenarioError(path, line_of(entry, keys), f"schema: {message(exc)}") from exc
    if entry["id"] in seen:
        raise ScenarioError(
            path,
            entry.line,
            f"duplicate scenario id {entry['id']} (first at line {seen[entry['id']]})",
        )
    seen[entry["id"]] = entry.line
    ocpp = str(entry.get("ocpp", defaults.get("ocpp", "1.6")))
    base_cp = defaults.get("charge_point", {})
    named = entry.get("charge_points") or {"cp": {}}
    charge_points = {name: {**base_cp, **(cfg or {})} for name, cfg in named.items()}

    def version_of(cp: str | None) -> str:
        config = charge_points.get(cp or next(iter(charge_points)), {})
        return str(config.get("ocpp", ocpp))

    steps = []
    for node in entry["steps"]:
        kind, args, cp = check_step(path, node, version_of)
        steps.append(Step(kind, args, node.line, _block(lines, node.line), cp))
    return Scenario(
        id=entry["id"],
        title=entry.get("title", entry["id"]),
        path=path,
        line=entry.line,
        ocpp=ocpp,
        tags=list(entry.get("tags", [])),
        features=list(entry.get("features", [])),
        charge_points=charge_points,
        state=entry.get("state", defaults.get("state")),
        setup={**defaults.get("setup", {}), **entry.get("setup", {})},
        steps=steps,
    )


__all__ = [
    "DEFAULTS_FILE",
    "Scenario",
    "ScenarioError",
    "Step",
    "load_defaults",
    "load_entries",
    "load_file",
    "parse_yaml",
]
