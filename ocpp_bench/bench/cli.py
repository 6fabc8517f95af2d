"""`ocpp-bench bench`: measure our CSMS beside the reference and write reports/bench.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from ocppj.options import add_option


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser("bench", help="benchmark our CSMS against a bare reference")
    bench.add_argument("--quick", action="store_true", help="small and short (under 2 minutes)")
    add_option(bench, "--out", default="reports", help="folder of bench.md and bench.json")
    bench.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from .runner import main

    return main(args.quick, Path(args.out))
