"""The `ocpp-bench` command. Each package registers its own subcommands."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    from csms.cli import register as register_csms
    from simulator.cli import register as register_sim

    from .bench.cli import register as register_bench
    from .scenario.cli import register as register_run

    parser = argparse.ArgumentParser(
        prog="ocpp-bench", description="OCPP test harness: CSMS, simulator, scenarios, load."
    )
    parser.add_argument("--version", action="version", version=f"ocpp-bench {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_csms(commands)
    register_run(commands)
    register_sim(commands)
    register_bench(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in words:  # what follows goes to pytest, for `ocpp-bench run`
        cut = words.index("--")
        words, extra = words[:cut], words[cut + 1 :]
    args = parser.parse_args(words)
    if extra and args.command != "run":
        parser.error("arguments after -- are for pytest, under `ocpp-bench run` only")
    args.extra = extra
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
