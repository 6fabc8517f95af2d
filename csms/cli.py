"""`ocpp-bench csms ...`: serve the CSMS and manage its registry from the shell.

Registry commands write to the same SQLite file the server uses (WAL lets both work at once),
so a charger or tag added here is seen by a running server at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from ocppj.options import add_option

from .app import CsmsApp
from .config import CsmsConfig
from .loop import CHOICES as LOOPS
from .loop import run as run_on_loop
from .services import Services, validation
from .services.validation import TAG_STATUSES
from .store import DatabaseUnusable, open_database
from .store.checks import check as check_database
from .store.engines import ERRORS as DATABASE_ERRORS
from .store.engines import describe as describe_database_error
from .store.location import PostgresUrl, UnsupportedDatabase, parse

# the CLI's names of the fields a registry check may refuse (csms.services.validation)
FIELD_NAMES = {
    "charger_id": "ID",
    "password": "--password",
    "id_tag": "TAG",
    "status": "--status",
    "expiry_date": "--expiry",
    "parent_id_tag": "--parent",
}
HINTS = {"password": "; a lab may allow it with --allow-weak-password"}
DEMO_CHARGERS = [("CP-001", None), ("CP-002", None), ("CP-SECURE", "change-me-please-16")]
DEMO_TAGS = [
    ("TAG-ACCEPTED", "Accepted", None),
    ("TAG-BLOCKED", "Blocked", None),
    ("TAG-EXPIRED", "Accepted", "2020-01-01T00:00:00Z"),
    ("TAG-INVALID", "Invalid", None),
]


Location = Path | PostgresUrl
DATABASE_PROBLEMS: tuple[type[Exception], ...] = (DatabaseUnusable, *DATABASE_ERRORS)


def database_location(text: str) -> Location:
    """`--db`'s type: a bad location is a usage error with its reason."""
    try:
        return parse(text)
    except UnsupportedDatabase as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _db_config(location: Location) -> dict[str, object]:
    """CsmsConfig's fields for the database at `location`."""
    if isinstance(location, PostgresUrl):
        return {"db_url": location.url}
    return {"db_path": location}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_option(
        common,
        "--db",
        default="ocpp-bench.db",
        type=database_location,
        help="database: an SQLite file (a path or sqlite:///PATH) or"
        " postgresql://user:password@host/database",
    )
    csms = commands.add_parser("csms", help="run and manage the CSMS")
    sub = csms.add_subparsers(dest="csms_command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the CSMS")
    add_option(serve, "--host", default="0.0.0.0", help="address to listen on")
    add_option(serve, "--ocpp-port", type=int, default=9220, help="OCPP WebSocket port")
    add_option(serve, "--api-port", type=int, default=3000, help="HTTP API port")
    add_option(
        serve,
        "--api-token",
        default=None,
        help="bearer token of the HTTP API (default: generated once, kept beside the db)",
    )
    add_option(serve, "--tls-port", type=int, help="wss:// port for security profile 2")
    add_option(serve, "--mtls-port", type=int, help="wss:// port for profile 3 (client certs)")
    add_option(serve, "--wss-port", type=int, help="wss:// port for profiles 2 and 3 at once")
    add_option(serve, "--tls-cert", help="PEM certificate (chain) of the CSMS, for wss://")
    add_option(serve, "--tls-key", help="PEM key of --tls-cert (default: in the same file)")
    add_option(serve, "--tls-client-ca", help="CA that signed the chargers' certificates")
    add_option(serve, "--cp-ca-cert", help="PEM CA certificate that signs the chargers' CSRs")
    add_option(serve, "--cp-ca-key", help="PEM key of --cp-ca-cert (default: in the same file)")
    add_option(
        serve,
        "--loop",
        choices=LOOPS,
        default="auto",
        help="event loop: uvloop when installed (auto), or asyncio's own",
    )
    add_option(
        serve,
        "--auto-register",
        action="store_true",
        default=False,
        help="admit unknown charge points and register them",
    )
    add_option(
        serve,
        "--accept-any-tag",
        action="store_true",
        default=False,
        help="free vend (labs, load tests): Accept any idTag the registry does not know",
    )
    add_option(
        serve,
        "--heartbeat-interval",
        type=int,
        default=300,
        help="interval (s) sent in BootNotification.conf",
    )
    add_option(
        serve,
        "--boot-retry-interval",
        type=int,
        default=30,
        help="interval (s) sent with Pending/Rejected boots",
    )
    add_option(
        serve,
        "--offline-after",
        type=float,
        default=None,
        help="seconds of silence before a charger counts offline (2 x heartbeat + 60)",
    )
    add_option(
        serve, "--ping-interval", type=float, default=30.0, help="WebSocket ping interval (s)"
    )
    add_option(
        serve,
        "--gc-freeze-interval",
        type=float,
        default=10.0,
        help="freeze the long-lived heap every N s, against long GC pauses (0: off)",
    )
    add_option(
        serve,
        "--log-retention",
        type=_days,
        default=None,
        metavar="DAYS",
        help="prune message-log rows older than DAYS (default: keep everything)",
    )
    add_option(
        serve,
        "--meter-retention",
        type=_days,
        default=None,
        metavar="DAYS",
        help="prune meter values outside transactions older than DAYS (default: keep them)",
    )
    add_option(
        serve,
        "--node-id",
        type=_node_id,
        default=None,
        help="this node's name in a cluster of nodes on one PostgreSQL --db (default: alone)",
    )
    add_option(
        serve,
        "--cluster-lease",
        type=_seconds,
        default=10.0,
        metavar="SECONDS",
        help="how long a node's chargers stay its own after its last renewal (a third of it"
        " between renewals)",
    )
    serve.set_defaults(run=_serve)

    charger = sub.add_parser("add-charger", parents=[common], help="register a charge point")
    charger.add_argument("charger_id", metavar="ID")
    add_option(charger, "--password", help="Basic Auth password (none: no credentials needed)")
    add_option(
        charger,
        "--allow-weak-password",
        action="store_true",
        default=False,
        help=f"accept a --password shorter than {validation.MIN_PASSWORD_BYTES} bytes, the"
        " OCPP 1.6 security whitepaper's minimum (labs only)",
    )
    add_option(charger, "--name", help="display name")
    add_option(
        charger,
        "--security-profile",
        type=int,
        choices=[0, 1, 2, 3],
        help="1: ws + Basic Auth (0 without password), 2: TLS + Basic Auth, 3: mutual TLS",
    )
    add_option(
        charger,
        "--ocpp-version",
        default=validation.ANY_VERSION,
        choices=[*validation.OCPP_VERSIONS, validation.ANY_VERSION],
        help="the OCPP version it must speak (any: whichever it offers, the newest)",
    )
    charger.set_defaults(run=_add_charger)

    tag = sub.add_parser("add-tag", parents=[common], help="register or update an id tag")
    tag.add_argument("id_tag", metavar="TAG")
    add_option(tag, "--status", default="Accepted", choices=TAG_STATUSES, help="tag status")
    add_option(tag, "--expiry", help="expiry date, ISO 8601")
    add_option(tag, "--parent", help="parent id tag")
    add_option(tag, "--token-type", choices=validation.TOKEN_TYPES, help="its 2.0.1 idToken type")
    tag.set_defaults(run=_add_tag)

    token = sub.add_parser(
        "api-token", parents=[common], help="print the HTTP API token (made if missing)"
    )
    token.set_defaults(run=_api_token)

    seed = sub.add_parser("seed", parents=[common], help="add demo chargers and tags")
    seed.set_defaults(run=_seed)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_sub.add_parser("upgrade", parents=[common], help="apply migrations")
    upgrade.set_defaults(run=_upgrade)
    db_stats = db_sub.add_parser("stats", parents=[common], help="rows and bytes per table")
    db_stats.set_defaults(run=_db_stats)
    db_vacuum = db_sub.add_parser(
        "vacuum", parents=[common], help="give back the room of deleted rows (serve stopped)"
    )
    db_vacuum.set_defaults(run=_db_vacuum)
    db_copy = db_sub.add_parser(
        "copy",
        parents=[common],
        help="copy an SQLite database's rows into the (new) PostgreSQL database of --db",
    )
    db_copy.add_argument(
        "--from", dest="source", required=True, type=database_location, metavar="SQLITE",
        help="the SQLite file to copy (serve stopped)",
    )  # fmt: skip
    db_copy.set_defaults(run=_db_copy)


def _node_id(text: str) -> str:
    """A node's name: letters, digits, '-', '_' and '.', up to 64."""
    if not text or len(text) > 64 or not all(c.isalnum() or c in "-_." for c in text):
        raise argparse.ArgumentTypeError(
            f"{text!r}: a node id is 1 to 64 letters, digits, '-', '_' or '.'"
        )
    return text


def _more_than_zero(units: str, unit: str) -> Callable[[str], float]:
    """An option's type: a number of `units` more than 0 (`unit` in the message)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of {units}: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be more than 0 {unit}: {text!r}")
        return value

    return parse


_seconds = _more_than_zero("seconds", "s")  # a duration
_days = _more_than_zero("days", "days")  # a retention


def _config(args: argparse.Namespace) -> CsmsConfig:
    return CsmsConfig(
        **_db_config(args.db),  # type: ignore[arg-type]
        host=args.host,
        ocpp_port=args.ocpp_port,
        api_port=args.api_port,
        api_token=args.api_token or None,
        auto_register=args.auto_register,
        accept_any_tag=args.accept_any_tag,
        heartbeat_interval=args.heartbeat_interval,
        boot_retry_interval=args.boot_retry_interval,
        offline_after=args.offline_after,
        ping_interval=args.ping_interval or None,
        gc_freeze_interval=args.gc_freeze_interval or None,
        tls_port=args.tls_port,
        mtls_port=args.mtls_port,
        wss_port=args.wss_port,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
        tls_client_ca=Path(args.tls_client_ca) if args.tls_client_ca else None,
        cp_ca_cert=Path(args.cp_ca_cert) if args.cp_ca_cert else None,
        cp_ca_key=Path(args.cp_ca_key) if args.cp_ca_key else None,
        node_id=args.node_id,
        cluster_lease=args.cluster_lease,
        log_retention_days=args.log_retention,
        meter_retention_days=args.meter_retention,
    )


def _serve(args: argparse.Namespace) -> int:
    async def main() -> None:
        app = CsmsApp(_config(args))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with app:
            print(f"ocpp-bench CSMS: OCPP at {app.ocpp_url}/<charger-id>, db {args.db}", flush=True)
            if app.config.api_port is not None:
                print(f"HTTP API and dashboard at {app.api_url}/", flush=True)
            if app.cluster is not None:
                print(f"cluster node {app.cluster.node_id}", flush=True)
            for profile, port in ((2, args.tls_port), (3, args.mtls_port)):
                if port is not None:
                    url = app.url_for_profile(profile)
                    print(f"security profile {profile} at {url}/<charger-id>", flush=True)
            if args.wss_port is not None:
                print(f"security profiles 2 and 3 at {app.wss_url}/<charger-id>", flush=True)
            if app.config.accept_any_tag:
                print("free vend (--accept-any-tag): unknown idTags are Accepted", flush=True)
            if app.config.api_port is not None:
                print(_token_hint(args, app.api_url), flush=True)
            await stop.wait()

    if args.node_id is not None and not isinstance(args.db, PostgresUrl):
        print(
            "ocpp-bench CSMS could not start: --node-id: a cluster's nodes share one PostgreSQL"
            " database (--db postgresql://...)",
            file=sys.stderr,
        )
        return 2
    try:
        if isinstance(args.db, Path):
            check_database(args.db, thorough=True)  # every page, once
        with contextlib.suppress(KeyboardInterrupt):
            run_on_loop(main(), args.loop)
    # e.g. a port in use, an unreadable certificate, a file that is not our database
    except (OSError, ValueError, DatabaseUnusable) as exc:
        print(f"ocpp-bench CSMS could not start: {exc}", file=sys.stderr)
        return 1
    return 0


def _token_hint(args: argparse.Namespace, api_url: str) -> str:
    """How to get the API token, not the token itself: the banner often ends up in a log."""
    if args.api_token:
        source = "the one given with --api-token (or OCPP_BENCH_API_TOKEN)"
    else:
        where = args.db.resolve() if isinstance(args.db, Path) else args.db
        source = f"ocpp-bench csms api-token --db {shlex.quote(str(where))}"
    return f"API token: {source}; dashboard: {api_url}/?token=<token>"


def _refuse(args: argparse.Namespace, exc: validation.InvalidField) -> int:
    """One line, as argparse says a usage error: exit code 2; 1 for a parent tag not there."""
    name = FIELD_NAMES.get(exc.field, exc.field)
    print(
        f"ocpp-bench csms {args.csms_command}: error: {name}: {exc.reason}"
        f"{HINTS.get(exc.field, '')}",
        file=sys.stderr,
    )
    return 1 if isinstance(exc, validation.UnknownParent) else 2


def _database_problem(args: argparse.Namespace, exc: Exception) -> int:
    """One line naming the database and the problem, like `serve`'s; exit code 1."""
    if not isinstance(exc, DatabaseUnusable):  # met after opening, e.g. a corrupt page
        exc = DatabaseUnusable(args.db, describe_database_error(exc))
    command = " ".join(c for c in (args.csms_command, getattr(args, "db_command", None)) if c)
    print(f"ocpp-bench csms {command}: {exc}", file=sys.stderr)
    return 1


def _with_services(args: argparse.Namespace, work: Callable[[Services], Awaitable[int]]) -> int:
    async def main() -> int:
        db = await open_database(args.db)
        try:
            config = CsmsConfig(**_db_config(args.db))  # type: ignore[arg-type]
            return await work(Services.build(db, config))
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except validation.InvalidField as exc:
        return _refuse(args, exc)
    except DATABASE_PROBLEMS as exc:
        return _database_problem(args, exc)


def _add_charger(args: argparse.Namespace) -> int:
    try:  # before the database is opened (or made)
        validation.charger_id(args.charger_id, CsmsConfig().identity_max_length)
        password = validation.password(args.password, allow_weak=args.allow_weak_password)
    except validation.InvalidField as exc:
        return _refuse(args, exc)

    async def work(services: Services) -> int:
        created = await services.chargers.register(
            args.charger_id,
            password=password,
            name=args.name,
            security_profile=args.security_profile,
            ocpp_version=args.ocpp_version,
        )
        if not created:
            print(f"charger {args.charger_id} exists already", file=sys.stderr)
            return 1
        print(f"added charger {args.charger_id}")
        return 0

    return _with_services(args, work)


def _add_tag(args: argparse.Namespace) -> int:
    given = {
        "status": args.status,
        "expiry_date": args.expiry,
        "parent_id_tag": args.parent,
        "token_type": args.token_type,
    }
    try:  # before the database is opened (or made); the parent is checked in it
        validation.tag_fields(args.id_tag, given)
    except validation.InvalidField as exc:
        return _refuse(args, exc)

    async def work(services: Services) -> int:
        fields = await validation.id_tag_fields(services.tags, args.id_tag, given)
        await services.tags.upsert(args.id_tag, **fields)
        print(f"tag {args.id_tag}: {args.status}")
        return 0

    return _with_services(args, work)


def _seed(args: argparse.Namespace) -> int:
    where = args.db.resolve() if isinstance(args.db, Path) else args.db

    async def work(services: Services) -> int:
        print(f"seeded {where}:")
        width = max(len(name) for name, _ in DEMO_CHARGERS)
        for charger_id, password in DEMO_CHARGERS:
            created = await services.chargers.register(
                charger_id, password=password, name=charger_id
            )
            if not created:
                what = "exists already, left as it was"
            elif password:
                what = f"Basic Auth password {password}"
            else:
                what = "no password"
            print(f"  charger {charger_id:<{width}}  {what}")
        width = max(len(tag) for tag, _, _ in DEMO_TAGS)
        for id_tag, status, expiry in DEMO_TAGS:
            given = {"status": status, "expiry_date": expiry}
            await services.tags.upsert(id_tag, **validation.tag_fields(id_tag, given))
            verdict = (await services.authorization.check(id_tag)).status
            expires = f", expiry {expiry}" if expiry else ""
            print(f"  id tag  {id_tag:<{width}}  {status}{expires}: Authorize answers {verdict}")
        print("chargers connect to ws://HOST:9220/ocpp/<id> once `ocpp-bench csms serve` runs")
        return 0

    return _with_services(args, work)


def _api_token(args: argparse.Namespace) -> int:
    from .api import load_or_create_token, new_token, token_path

    if isinstance(args.db, PostgresUrl):  # kept in the database, shared by every node

        async def work(services: Services) -> int:
            print(await services.settings.get_or_create("api_token", new_token))
            print(f"the API token of {args.db}, kept in its settings table", file=sys.stderr)
            return 0

        return _with_services(args, work)
    try:
        check_database(args.db)
    except DatabaseUnusable as exc:
        return _database_problem(args, exc)
    db = args.db
    print(load_or_create_token(db))  # stdout holds the token alone: TOKEN=$(... api-token)
    if not db.exists() or db.resolve().parent != Path.cwd().resolve():
        missing = "" if db.exists() else " (no database there yet: serve makes it)"
        print(
            f"the API token of {db.resolve()}{missing}, kept in {token_path(db).resolve()}",
            file=sys.stderr,
        )
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    async def main() -> list[int]:
        db = await open_database(args.db, upgrade=False)
        try:
            return await db.upgrade()
        finally:
            await db.close()

    try:
        applied = asyncio.run(main())
    except DATABASE_PROBLEMS as exc:
        return _database_problem(args, exc)
    print(f"applied migrations {applied}" if applied else "database is up to date")
    return 0


def _db_stats(args: argparse.Namespace) -> int:
    from .store.maintenance import stats
    from .store.postgres import stats as stats_postgres

    try:
        figures = stats_postgres(args.db) if isinstance(args.db, PostgresUrl) else stats(args.db)
    except DATABASE_PROBLEMS as exc:
        return _database_problem(args, exc)
    width = max(len(table.name) for table in figures.tables)
    print(f"{'table':<{width}}  {'rows':>12}  {'table MiB':>10}  {'index MiB':>10}")
    for table in figures.tables:
        print(
            f"{table.name:<{width}}  {table.rows:>12,}  {_mib(table.table_bytes):>10}"
            f"  {_mib(table.index_bytes):>10}"
        )
    if isinstance(args.db, PostgresUrl):
        print(f"database {_mib(figures.file_bytes)} MiB")
    else:
        print(f"file {_mib(figures.file_bytes)} MiB, of which free {_mib(figures.free_bytes)} MiB")
    return 0


def _db_vacuum(args: argparse.Namespace) -> int:
    from .store.maintenance import vacuum
    from .store.postgres import vacuum as vacuum_postgres

    try:
        if isinstance(args.db, PostgresUrl):
            before, after = vacuum_postgres(args.db)
        else:
            before, after = vacuum(args.db)
    except DATABASE_PROBLEMS as exc:
        return _database_problem(args, exc)
    print(f"{args.db}: {_mib(before)} MiB before, {_mib(after)} MiB after")
    return 0


def _db_copy(args: argparse.Namespace) -> int:
    from .store.copy import copy_to_postgres

    if not isinstance(args.db, PostgresUrl) or isinstance(args.source, PostgresUrl):
        print(
            "ocpp-bench csms db copy: error: copies an SQLite file (--from) into PostgreSQL"
            " (--db postgresql://...)",
            file=sys.stderr,
        )
        return 2
    try:
        copied = copy_to_postgres(args.source, args.db)
    except DATABASE_PROBLEMS as exc:
        return _database_problem(args, exc)
    total = sum(copied.rows.values())
    print(f"copied {total:,} rows of {args.source} into {args.db} in {copied.seconds:.1f} s")
    for table, count in copied.rows.items():
        print(f"  {table:<22} {count:>12,}")
    return 0


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f}"
