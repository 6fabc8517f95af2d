"""The floors of the tree and the rules between them, read from the source (no imports run).

- ocppj, the OCPP-J core, imports nothing of ours;
- csms and simulator sit on it and never import each other;
- ocpp_bench (scenario engine, bench, CLI) and loadtests sit on top and never import each other;
- no two modules import each other, directly or around a circle;
- in the CSMS: services and store know nothing of the wire or of HTTP, the store holds all SQL,
  and nothing outside services reaches into a store.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOORS = {"ocppj": 0, "csms": 1, "simulator": 1, "ocpp_bench": 2, "loadtests": 2}

# Known breaches, to be emptied by the restructuring; each must still exist (a fixed one is
# taken off the list), and no new one may appear.
KNOWN_TANGLES: set[frozenset[str]] = set()  # modules that import each other, around a circle
KNOWN_STORE_REACHES: set[str] = set()  # modules outside services that use a `.store` attribute
KNOWN_API_STORE_IMPORTS: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> Iterator[tuple[str, Path]]:
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield module_name(path), path


def imports(
    name: str, path: Path, top_level_only: bool = False, typing_too: bool = False
) -> set[str]:
    """The modules `name` imports: at any depth, or with `top_level_only` those it imports
    when it is itself imported; `typing_too` counts TYPE_CHECKING imports as well."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            typing = isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            if typing and not typing_too:
                continue
            if not (top_level_only and in_function):
                if isinstance(child, ast.Import):
                    found.update(alias.name for alias in child.names)
                elif isinstance(child, ast.ImportFrom):
                    base = package[: len(package) - child.level + 1] if child.level else []
                    module = ".".join([*base, *([child.module] if child.module else [])])
                    if child.module is None:  # from . import x: x may be a module
                        found.update(f"{module}.{alias.name}" for alias in child.names)
                    else:
                        found.add(module)
            function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, in_function or function)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_each_floor_imports_only_the_floors_below() -> None:
    bad = []
    for name, path in modules():
        own = name.split(".")[0]
        for target in imports(name, path):
            other = target.split(".")[0]
            if other in FLOORS and other != own and FLOORS[other] >= FLOORS[own]:
                bad.append(f"{name} imports {target}")
    assert not bad, "\n".join(bad)


def tangles() -> set[frozenset[str]]:
    """Groups of modules that import each other around a circle (the strongly connected
    components of the import graph with more than one module)."""
    known = dict(modules())
    graph = {  # a lazy or a type-only import is a dependency of the design too
        name: {t for t in imports(name, path, typing_too=True) if t in known and t != name}
        for name, path in known.items()
    }
    reverse: dict[str, set[str]] = {name: set() for name in graph}
    for name, targets in graph.items():
        for target in targets:
            reverse[target].add(name)

    def reach(start: str, edges: dict[str, set[str]]) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for target in edges[todo.pop()] - seen:
                seen.add(target)
                todo.append(target)
        return seen

    found = set()
    for name in graph:
        group = frozenset(reach(name, graph) & reach(name, reverse))
        if len(group) > 1:
            found.add(group)
    return found


def test_no_modules_import_each_other_around_a_circle() -> None:
    found = tangles()
    new = [sorted(group) for group in found - KNOWN_TANGLES]
    assert not new, f"modules that import each other: {new}"
    gone = [sorted(group) for group in KNOWN_TANGLES - found]
    assert not gone, f"no longer tangled as listed, update KNOWN_TANGLES: {gone}"


@pytest.mark.parametrize("package", ["csms/services", "csms/store"])
def test_the_domain_knows_no_wire_and_no_http(package: str) -> None:
    forbidden = ("ocpp", "ocppj", "websockets", "fastapi", "starlette", "uvicorn", "ocpp_bench")
    bad = []
    for name, path in modules():
        if not str(path.relative_to(ROOT)).startswith(package):
            continue
        for target in imports(name, path):
            if target.split(".")[0] in forbidden or ".api" in target or ".ocpp16" in target:
                bad.append(f"{name} imports {target}")
    assert not bad, "\n".join(bad)


def test_the_api_holds_no_sql_and_no_sockets() -> None:
    for name, path in modules():
        if not name.startswith("csms.api"):
            continue
        for target in imports(name, path):
            assert target.split(".")[0] not in ("aiosqlite", "sqlite3", "websockets"), name
            if name not in KNOWN_API_STORE_IMPORTS:
                assert not target.startswith(("csms.store", "csms.ocpp16")), f"{name}: {target}"
        text = path.read_text(encoding="utf-8")
        assert "SELECT " not in text and "UPDATE " not in text, path


def _store_reaches() -> set[str]:
    """Places outside csms/services and csms/store that touch a `.store` attribute."""
    found = set()
    for name, path in modules():
        if not name.startswith("csms.") or name.startswith(("csms.services", "csms.store")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "store":
                found.add(f"{name}:{node.lineno}")
    return found


def test_nothing_outside_services_reaches_into_a_store() -> None:
    found = {place.split(":")[0] for place in _store_reaches()}
    new = sorted(found - KNOWN_STORE_REACHES)
    assert not new, f"reaching into a store from outside services: {sorted(_store_reaches())}"
    assert not KNOWN_STORE_REACHES - found, "a known reach is gone: take it off the list"


def test_the_rules_catch_a_breach(tmp_path: Path) -> None:
    """The scanner sees a forbidden import (here written into a scratch module)."""
    scratch = tmp_path / "scratch.py"
    scratch.write_text("import csms\n\ndef later():\n    from simulator import fleet\n")
    assert imports("ocppj.scratch", scratch) == {"csms", "simulator"}
    assert imports("ocppj.scratch", scratch, top_level_only=True) == {"csms"}
