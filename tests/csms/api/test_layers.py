"""The layering rule: services and store know nothing of the wire or of HTTP; the store holds
all SQL; the API reaches chargers only through the app and `operations`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CSMS = Path(__file__).resolve().parents[3] / "csms"


def imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (CSMS / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {(path.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add((path.name, "." * node.level + node.module))
    return found


@pytest.mark.parametrize("package", ["services", "store"])
def test_domain_imports_no_wire_and_no_http(package: str) -> None:
    forbidden = ("ocpp", "websockets", "fastapi", "starlette", "uvicorn", "ocpp_bench")
    bad = {
        (name, module)
        for name, module in imports(package)
        if module.split(".")[0] in forbidden or module.startswith(("..api", "..ocpp16"))
    }
    assert not bad


def test_api_holds_no_sql_and_no_sockets() -> None:
    bad = {
        (name, module)
        for name, module in imports("api")
        if module.split(".")[0] in ("aiosqlite", "sqlite3", "websockets")
        or module.startswith(("..store.db", "..ocpp16"))
    }
    assert not bad
    for path in (CSMS / "api").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "SELECT " not in text and "UPDATE " not in text, path
