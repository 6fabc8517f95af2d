"""`ocpp-bench sim run` (one charge point) and `ocpp-bench sim fleet` (many)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl
import sys
import time

from ocppj.limits import raise_nofile
from ocppj.options import add_option

from ._console import run_console
from .clock import wait_any
from .connection import tls_context
from .endpoints import Endpoints
from .errors import SimulatorError
from .factory import VERSIONS, create_charge_point
from .faults import Faults
from .fleet import FLEET_PROFILES, Fleet, FleetOptions, progress_line, summary
from .spec import ChargePointSpec


class DefaultsFormatter(argparse.HelpFormatter):
    """Help with each option's default, where it has one worth showing: "(default: 10)"."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default:" in text
            or isinstance(default, bool)
            or not isinstance(default, str | int | float)
            or default in ("", argparse.SUPPRESS)
        ):
            return text
        shown = f"(default: {default})".replace("%", "%%")
        head, env, tail = text.partition(" [env ")
        return f"{head} {shown}{env}{tail}" if env else f"{text} {shown}"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = commands.add_parser("sim", help="simulated charge points")
    sub = sim.add_subparsers(dest="sim_command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    add_option(
        common,
        "--url",
        default="ws://127.0.0.1:9220/ocpp",
        help="CSMS OCPP URL: the identity is appended as its last path segment, or put where"
        " {id} stands (ws://host/ws/ocpp/{id}/)",
    )
    add_option(
        common,
        "--ocpp",
        default="1.6",
        choices=tuple(VERSIONS),
        help="OCPP version spoken (2.0.1: one EVSE per connector; 1.6 key names such as"
        " HeartbeatInterval are taken by both)",
    )
    add_option(common, "--password", help="Basic Auth password (security profile 1/2)")
    add_option(common, "--connectors", type=int, default=1, help="connectors per charge point")
    add_option(common, "--tls-ca", help="CA file to verify the CSMS certificate (wss)")
    add_option(common, "--cert", help="client certificate file (security profile 3)")
    add_option(common, "--key", help="client key file (if not in --cert)")
    for profile, what in ((2, "TLS"), (3, "mutual TLS, with --cert")):
        add_option(
            common,
            f"--url-profile{profile}",
            help=f"CSMS URL for security profile {profile} ({what}), where an accepted"
            " SecurityProfile change takes the charge point",
        )
    add_option(common, "--heartbeat", type=int, help="HeartbeatInterval before the boot answer")
    add_option(
        common,
        "--faults",
        type=_faults,
        default=Faults(),
        help="misbehave to test a CSMS: duplicate[=SHARE], wrong-ids[=SHARE], "
        "clock-drift=SECONDS, schema[=SHARE], storm=COUNT, seed=N (comma-separated)",
    )

    run = sub.add_parser(
        "run",
        parents=[common],
        help="run one charge point",
        description="One charge point, its traffic printed; commands on stdin (type help).",
        formatter_class=DefaultsFormatter,
    )
    add_option(run, "--id", default="SIM-00001", help="charge point identity")
    add_option(run, "--session", help="run a session on its own: TAG[:SECONDS] (default: 30 s)")
    add_option(
        run,
        "--plugged",
        action="store_true",
        default=False,
        help="start with a cable in every connector, so a remote start begins at once",
    )
    add_option(
        run,
        "--no-input",
        action="store_true",
        default=False,
        help="do not read commands from stdin",
    )
    run.set_defaults(run=run_command)

    fleet = sub.add_parser(
        "fleet",
        parents=[common],
        help="run many charge points",
        description="Many charge points in this process; a summary at the end (--duration, "
        "Ctrl-C or SIGTERM), open transactions ended first.",
        formatter_class=DefaultsFormatter,
    )
    add_option(fleet, "--count", type=int, default=100, help="number of charge points")
    add_option(fleet, "--rate", type=float, default=50.0, help="charge points started per s")
    add_option(
        fleet, "--id-pattern", default="SIM-{n:05d}", help="identity of charge point number n"
    )
    add_option(
        fleet,
        "--profile",
        default="idle",
        choices=FLEET_PROFILES,
        help="idle: boot, heartbeats, answers to the CSMS; charging: also plug, tag, charge "
        "for --charge-seconds, stop, unplug, pause --pause-seconds, again",
    )
    add_option(fleet, "--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    add_option(fleet, "--charge-seconds", type=float, default=30.0, help="charging: session length")
    add_option(
        fleet, "--pause-seconds", type=float, default=10.0, help="charging: between sessions"
    )
    add_option(
        fleet,
        "--meter-interval",
        type=int,
        default=10,
        help="MeterValueSampleInterval (s): MeterValues during transactions; 0: none",
    )
    add_option(
        fleet, "--tag-pattern", default="FLEET-{n:05d}", help="id tag of charge point number n"
    )
    fleet.set_defaults(run=fleet_command)


def _faults(text: str) -> Faults:
    try:
        return Faults.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


IDENTITY_MAX = 48  # CiString48: chargeBoxIdentity in OCPP 1.6


def pattern_problem(pattern: str, last: int, what: str) -> str | None:
    """Why `pattern` cannot name charge points 1..`last` (each its own), or None."""
    try:
        first, final = pattern.format(n=1), pattern.format(n=last)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        return f"{pattern!r} is not a format with {{n}} ({type(exc).__name__}: {exc})"
    if what != "identity":  # one id tag for all is a choice (the CSMS may refuse ConcurrentTx)
        return None
    if last > 1 and first == final:
        return f"{pattern!r} gives every charge point the same {what}: put {{n}} in it"
    if len(final) > IDENTITY_MAX:
        return f"{final!r} is longer than {IDENTITY_MAX} characters"
    return None


def _tls(args: argparse.Namespace) -> ssl.SSLContext | None:
    if args.tls_ca or args.cert:
        return tls_context(args.tls_ca, args.cert, args.key)
    return None


def _endpoints(args: argparse.Namespace) -> Endpoints | None:
    """Where a raised SecurityProfile takes the charge points (--url-profile2/3)."""
    urls = {2: args.url_profile2, 3: args.url_profile3}
    given = {profile: url for profile, url in urls.items() if url}
    if not given:
        return None
    return Endpoints.from_url(args.url, given, tls_ca=args.tls_ca, cert=args.cert, key=args.key)


def _session(text: str | None) -> tuple[str, float] | None:
    if not text:
        return None
    tag, _, seconds = text.partition(":")
    return tag, float(seconds or 30)


def run_command(args: argparse.Namespace) -> int:
    spec = ChargePointSpec(
        args.id,
        connectors=args.connectors,
        password=args.password,
        security_profile=3 if args.cert else None,
        transcript_size=200,
        faults=args.faults,
        ocpp_version=args.ocpp,
    )
    if args.heartbeat:
        spec.configuration["HeartbeatInterval"] = str(args.heartbeat)

    async def main() -> int:
        endpoints = _endpoints(args)
        targets = endpoints.lookup(spec.identity) if endpoints is not None else None
        cp = create_charge_point(spec, args.url, ssl_context=_tls(args), profile_targets=targets)
        if args.plugged:  # before the boot: reported Preparing once it is accepted
            for number in range(1, args.connectors + 1):
                await cp.plug_in(number)
        return await run_console(
            cp, session=_session(args.session), interactive=not args.no_input, out=sys.stdout
        )

    try:
        return asyncio.run(main())
    except SimulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


FILES_BESIDE_SOCKETS = 64  # the interpreter's own files, logs, the TLS files


def fleet_command(args: argparse.Namespace) -> int:
    last = args.count
    for option, pattern, what in (
        ("--id-pattern", args.id_pattern, "identity"),
        ("--tag-pattern", args.tag_pattern, "id tag"),
    ):
        problem = pattern_problem(pattern, last, what)
        if problem is not None:
            print(
                f"ocpp-bench sim fleet: error: {option} {problem} (e.g. SIM-{{n:05d}})",
                file=sys.stderr,
            )
            return 2
    limit = raise_nofile()
    if limit is not None and args.count + FILES_BESIDE_SOCKETS > limit:
        print(
            f"ocpp-bench sim fleet: warning: the open-file limit is {limit}, too low for"
            f" {args.count} charge points (one socket each): raise it with ulimit -n",
            file=sys.stderr,
        )
    options = FleetOptions(
        url=args.url,
        count=args.count,
        rate=args.rate,
        id_pattern=args.id_pattern,
        profile=args.profile,
        connectors=args.connectors,
        password=args.password,
        heartbeat_s=args.heartbeat,
        id_tag=args.tag_pattern,
        charge_s=args.charge_seconds,
        pause_s=args.pause_seconds,
        meter_interval_s=args.meter_interval,
        faults=args.faults,
        ocpp_version=args.ocpp,
    )

    async def main() -> int:
        fleet = Fleet(options, ssl_context=_tls(args), endpoints=_endpoints(args))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, fleet.stop)
        begin = time.monotonic()
        tty = sys.stdout.isatty()

        async def progress() -> None:
            while not fleet.stopping.is_set():
                line = progress_line(fleet, time.monotonic() - begin)
                print(f"\r{line}" if tty else line, end="" if tty else "\n", flush=True)
                await wait_any(fleet.stopping, timeout=1.0 if tty else 5.0)

        async with asyncio.TaskGroup() as group:
            group.create_task(progress())
            await fleet.run(args.duration)
        print()
        print("\n".join(summary(fleet, time.monotonic() - begin)))
        return (
            0
            if fleet.charge_points
            and any(cp.registration == "Accepted" for cp in fleet.charge_points)
            else 1
        )

    return asyncio.run(main())
