"""The schema: the numbered SQL migrations shipped in `migrations/`, oldest first."""

from __future__ import annotations

from importlib import resources


def migrations() -> list[tuple[int, str]]:
    """(number, SQL script) of every migration, in the order they apply."""
    folder = resources.files("csms.store").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)
