"""The README's reference of `ocpp-bench sim`, made from the parser and the console's command
list so it cannot drift: `python -m simulator.docs` prints the blocks between the README's
`<!-- sim-... -->` markers."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ocppj.options import ENV_PREFIX

from ._console import COMMANDS
from .cli import register
from .v201.variables import RO, WO, definitions

__all__ = ["BLOCKS", "console_table", "options_table", "variables_table"]


@contextmanager
def _declared_defaults() -> Iterator[None]:
    """Without OCPP_BENCH_* variables, which would become the options' defaults."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


def _parser(command: str) -> argparse.ArgumentParser:
    with _declared_defaults():
        root = argparse.ArgumentParser(prog="ocpp-bench")
        register(root.add_subparsers())
    sim = _subparsers(root)["sim"]
    return _subparsers(sim)[command]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise LookupError(f"{parser.prog} has no subcommands")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _options(command: str) -> list[argparse.Action]:
    return [
        action
        for action in _parser(command)._actions
        if action.option_strings and "-h" not in action.option_strings
    ]


def options_table(command: str | None) -> str:
    """The options of `ocpp-bench sim COMMAND` that the other command lacks (None: those
    both have): option, default, meaning."""
    run, fleet = _options("run"), _options("fleet")
    both = {a.dest for a in run} & {a.dest for a in fleet}
    if command is None:
        chosen = [a for a in run if a.dest in both]
    else:
        chosen = [a for a in _options(command) if a.dest not in both]
    lines = ["| option | default | meaning |", "|---|---|---|"]
    for action in chosen:
        default = action.default
        plain = isinstance(default, str | int | float) and not isinstance(default, bool)
        shown = f"`{default}`" if plain and default != "" else ""
        meaning = re.sub(r"\s*\[env [A-Z0-9_]+\]$", "", action.help or "")
        if action.choices:
            meaning += f" (one of {', '.join(f'`{c}`' for c in action.choices)})"
        option = ", ".join(f"`{o}`" for o in action.option_strings)
        lines.append(f"| {option} | {shown} | {_cell(meaning)} |")
    return "\n".join(lines)


def console_table() -> str:
    """The commands `sim run` reads on stdin."""
    lines = ["| command | what it does |", "|---|---|"]
    lines += [f"| `{_cell(syntax)}` | {_cell(what)} |" for syntax, what in COMMANDS]
    return "\n".join(lines)


def variables_table() -> str:
    """The 2.0.1 station's device model: each component and its variables (EVSE and
    Connector once per EVSE and connector)."""
    by_component: dict[str, list[str]] = {}
    for var in definitions((1,)):
        marks = {RO: " (RO)", WO: " (WO)"}.get(var.mutability, "")
        if var.reboot_required:
            marks += " (reboot)"
        name = f"{var.name}[{var.instance}]" if var.instance else var.name
        by_component.setdefault(var.component, []).append(f"`{name}`{marks}")
    lines = ["| component | variables |", "|---|---|"]
    lines += [f"| {c} | {', '.join(names)} |" for c, names in by_component.items()]
    return "\n".join(lines)


# README marker -> the block that goes between `<!-- NAME:start -->` and `<!-- NAME:end -->`
BLOCKS: dict[str, Callable[[], str]] = {
    "sim-console": console_table,
    "sim-common": lambda: options_table(None),
    "sim-run": lambda: options_table("run"),
    "sim-fleet": lambda: options_table("fleet"),
    "sim-variables": variables_table,
}

if __name__ == "__main__":
    for name, make in BLOCKS.items():
        print(f"<!-- {name}:start -->\n{make()}\n<!-- {name}:end -->\n")
