"""Expectations in scenario files: partial matching plus tagged matchers.

In YAML: `!any`, `!absent`, `!type integer`, `!regex '^\\d+$'`, `!range [0, 100]`.
A mapping matches when every key it names matches (other keys are ignored); a list matches
element by element; anything else by equality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ocppj import timestamps

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


class Matcher:
    def mismatch(self, actual: Any) -> str | None:
        raise NotImplementedError


@dataclass(frozen=True)
class AnyValue(Matcher):
    def mismatch(self, actual: Any) -> str | None:
        return None

    def __repr__(self) -> str:
        return "!any"


@dataclass(frozen=True)
class Absent(Matcher):
    def mismatch(self, actual: Any) -> str | None:
        return f"expected absent, got {actual!r}"

    def __repr__(self) -> str:
        return "!absent"


@dataclass(frozen=True)
class TypeIs(Matcher):
    name: str

    def __post_init__(self) -> None:
        if self.name not in _TYPES and self.name != "datetime":
            raise ValueError(f"unknown type {self.name!r}; use one of {[*_TYPES, 'datetime']}")

    def mismatch(self, actual: Any) -> str | None:
        if self.name == "datetime":
            try:
                timestamps.parse(str(actual))
            except ValueError:
                return f"expected an ISO 8601 date-time, got {actual!r}"
            return None
        wanted = _TYPES[self.name]
        if isinstance(actual, bool) and bool not in wanted:
            return f"expected {self.name}, got boolean {actual!r}"
        return None if isinstance(actual, wanted) else f"expected {self.name}, got {actual!r}"

    def __repr__(self) -> str:
        return f"!type {self.name}"


@dataclass(frozen=True)
class Regex(Matcher):
    pattern: str

    def __post_init__(self) -> None:
        re.compile(self.pattern)  # a bad pattern is the file's error, found when it loads

    def mismatch(self, actual: Any) -> str | None:
        if isinstance(actual, str) and re.search(self.pattern, actual):
            return None
        return f"expected a string matching /{self.pattern}/, got {actual!r}"

    def __repr__(self) -> str:
        return f"!regex {self.pattern!r}"


@dataclass(frozen=True)
class InRange(Matcher):
    low: float | None
    high: float | None

    def mismatch(self, actual: Any) -> str | None:
        try:
            value = float(actual)
        except (TypeError, ValueError):
            return f"expected a number in {self!r}, got {actual!r}"
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            return f"expected a number in [{self.low}, {self.high}], got {actual!r}"
        return None

    def __repr__(self) -> str:
        return f"!range [{self.low}, {self.high}]"


def mismatches(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every way `actual` fails `expected`, as 'path: problem' lines (empty: it matches)."""
    if isinstance(expected, Matcher):
        problem = expected.mismatch(actual)
        return [f"{path}: {problem}"] if problem else []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        found = []
        for key, want in expected.items():
            if isinstance(want, Absent):
                if key in actual:
                    found.append(f"{path}.{key}: expected absent, got {actual[key]!r}")
            elif key not in actual:
                found.append(f"{path}.{key}: missing (expected {want!r})")
            else:
                found += mismatches(want, actual[key], f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        found = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found += mismatches(want, got, f"{path}[{index}]")
        return found
    if expected != actual or (
        type(expected) is not type(actual) and not _numbers(expected, actual)
    ):
        return [f"{path}: expected {expected!r}, got {actual!r}"]
    return []


def _numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
