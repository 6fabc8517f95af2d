"""`${...}` substitution in scenario values: saved variables, ${env.NAME}, ${faker.METHOD},
${time+N} (now plus N seconds, as an OCPP date-time)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ocppj import timestamps

_REF = re.compile(r"\$\{([^}]+)\}")


class UnknownVariable(KeyError):
    pass


class Variables(dict[str, Any]):
    def __init__(self, seed: int | None = None) -> None:
        super().__init__()
        self.seed = seed
        self._faker: Any = None

    @property
    def faker(self) -> Any:
        """Faker, made the first time a scenario asks for ${faker.X} (it is slow to import)."""
        if self._faker is None:
            from faker import Faker

            self._faker = Faker()
            if self.seed is not None:
                self._faker.seed_instance(self.seed)
        return self._faker

    def lookup(self, name: str) -> Any:
        if name.startswith("env."):
            value = os.environ.get(name[4:])
            if value is None:
                raise UnknownVariable(f"environment variable {name[4:]} is not set")
            return value
        if name.startswith("time"):  # ${time+30}: now plus 30 s, as OCPP date-time
            try:
                offset = float(name[4:] or 0)
            except ValueError as exc:
                raise UnknownVariable(f"bad time offset in {name!r}: use time+N or time-N") from exc
            return timestamps.iso(datetime.now(UTC) + timedelta(seconds=offset))
        if name.startswith("faker."):
            method = getattr(self.faker, name[6:], None)
            if not callable(method):
                raise UnknownVariable(f"faker has no method {name[6:]!r}")
            return method()
        if name not in self:
            raise UnknownVariable(f"variable {name!r} is not set (known: {sorted(self)})")
        return self[name]

    def resolve(self, value: Any) -> Any:
        """Substitute references in strings, recursively; `"${x}"` alone keeps x's type."""
        if isinstance(value, str):
            whole = _REF.fullmatch(value)
            if whole:
                return self.lookup(whole.group(1))
            return _REF.sub(lambda m: str(self.lookup(m.group(1))), value)
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value


def dig(data: Any, path: str) -> Any:
    """`dig(response, "idTagInfo.status")`; list items by index: `meterValue.0.timestamp`."""
    node = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit():
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"{path!r}: no {part!r} in {node!r}")
    return node
