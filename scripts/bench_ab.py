"""Our CSMS at two checkouts, side by side: is a change faster or slower?

    python scripts/bench_ab.py /tmp/old-checkout /tmp/new-checkout --rounds 5

Each checkout's `csms serve` runs in its own process (PYTHONPATH set to the checkout) on its own
empty database; the same load generator (this checkout's `ocpp_bench.bench.load`) runs each
message kind's closed loop on both, alternately, `--rounds` times, so a busy spell of the
machine falls on both. Prints the median rate of each and new/old, as a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from csms.process import CsmsProcess
from ocpp_bench.bench import load201
from ocpp_bench.bench.load import KINDS, run_load


def start(tree: Path, db: Path) -> CsmsProcess:
    server = CsmsProcess(db, heartbeat_interval=300, extra=["--ping-interval", "0"])
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(tree)
    try:
        return server.start(60)
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


async def compare(old: CsmsProcess, new: CsmsProcess, args: argparse.Namespace) -> list[str]:
    lines = ["| message | old /s | new /s | new/old | rounds old | rounds new |",
             "|---|---:|---:|---:|---|---|"]  # fmt: skip
    kinds = [k for k in KINDS if args.with_201 or not k.startswith(load201.PREFIX)]
    for kind in kinds:
        rates: dict[str, list[float]] = {"old": [], "new": []}
        for turn in range(args.rounds):
            pair = [("old", old), ("new", new)]
            for name, server in pair if turn % 2 == 0 else pair[::-1]:
                result = await run_load(server.url, kind, args.connections, args.seconds)
                rates[name].append(result.rate)
        a, b = statistics.median(rates["old"]), statistics.median(rates["new"])
        lines.append(
            f"| {kind} | {a:.0f} | {b:.0f} | {b / a:.2f} | "
            f"{', '.join(f'{r:.0f}' for r in rates['old'])} | "
            f"{', '.join(f'{r:.0f}' for r in rates['new'])} |"
        )
        print(lines[-1], file=sys.stderr)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", type=Path, help="checkout of the code before")
    parser.add_argument("new", type=Path, help="checkout of the code after")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0, help="per closed loop")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument(
        "--with-201", action="store_true", help="the 2.0.1 stages too (both must speak it)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        old = start(args.old.resolve(), Path(tmp) / "old.db")
        try:
            new = start(args.new.resolve(), Path(tmp) / "new.db")
            try:
                lines = asyncio.run(compare(old, new, args))
            finally:
                new.stop()
        finally:
            old.stop()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
