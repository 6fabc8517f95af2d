"""`ocpp-bench bench`: measure our CSMS beside the reference and write reports/bench.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from csms.store.location import PostgresUrl, UnsupportedDatabase, parse
from ocppj.options import add_option


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = commands.add_parser("bench", help="benchmark our CSMS against a bare reference")
    bench.add_argument("--quick", action="store_true", help="small and short (under 2 minutes)")
    add_option(bench, "--out", default="reports", help="folder of bench.md and bench.json")
    add_option(
        bench,
        "--db",
        type=_server,
        default=None,
        help="a PostgreSQL server (postgresql://user:password@host/database, a role that may"
        " create databases) for our CSMS's databases, made and dropped by the run; the report"
        " is then bench-postgresql.md (default: SQLite files)",
    )
    bench.set_defaults(run=_run)


def _server(text: str) -> PostgresUrl:
    try:
        where = parse(text)
    except UnsupportedDatabase as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if not isinstance(where, PostgresUrl):
        raise argparse.ArgumentTypeError("the bench's --db is a postgresql:// server")
    return where


def _run(args: argparse.Namespace) -> int:
    from .runner import main

    return main(args.quick, Path(args.out), args.db)
