"""The locustfile's custom command-line options (shown in the web UI) and their typed view."""

from __future__ import annotations

import argparse
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulator import tls_context
from simulator.factory import VERSIONS

__all__ = ["LoadOptions", "add_arguments", "parse_mix"]

GOLDEN = 0.6180339887498949


def add_arguments(parser: Any, profiles: Sequence[str]) -> None:
    """Register the options on Locust's parser (`@events.init_command_line_parser`);
    `profiles` are the load profiles' names (`loadtests.profiles.LOAD_PROFILES`), the first
    the default."""
    # Locust has a `--profile` of its own (a free label of the run, shown in the HTML report).
    # Ours replaces it but keeps a dest of its own, `ocpp_profile`: a master forwards only
    # non-Locust options to its workers. It sets Locust's `profile` too, for the report.
    # Arguments go on the parser itself, not a group: only those show in the web UI.
    existing = parser._option_string_actions.get("--profile")
    if existing is not None:
        parser._handle_conflict_resolve(None, [("--profile", existing)])
    parser.set_defaults(profile=None)
    group = parser
    group.add_argument(
        "--csms-url",
        default="ws://127.0.0.1:9220/ocpp",
        help="CSMS WebSocket URL; the charger id is appended as the last path segment, or put "
        "where {id} stands (ws://host/ws/ocpp/{id}/)",
    )
    group.add_argument(
        "--id-prefix",
        default="LOAD-",
        help="charger ids are PREFIX<worker index>-<n>, unique across workers",
    )
    group.add_argument(
        "--profile",
        dest="ocpp_profile",
        action=_ProfileAction,
        default=profiles[0],
        choices=list(profiles),
        help="steady: heartbeats + status; sessions: authorize/start/meter/stop loops; "
        "boot-storm: all connect and boot at once, then power cycles every --storm-interval; "
        "reconnect-storm: all connections dropped and re-established every --storm-interval",
    )
    group.add_argument(
        "--password", default="", is_secret=True, help="Basic Auth password (profiles 1/2)"
    )
    group.add_argument("--tls-ca", default="", help="CA bundle to verify a wss:// CSMS")
    group.add_argument("--cert", default="", help="client certificate (security profile 3)")
    group.add_argument("--key", default="", help="client private key (security profile 3)")
    group.add_argument(
        "--id-tag",
        default="{id}",
        help="tag presented in sessions; {id} is the charger id (register them in the CSMS)",
    )
    group.add_argument(
        "--heartbeat-interval",
        type=int,
        default=0,
        help="HeartbeatInterval (s) set after each boot; 0: as the CSMS says",
    )
    group.add_argument(
        "--status-interval",
        type=float,
        default=30.0,
        help="steady: mean seconds between cable plug/unplug (one StatusNotification each)",
    )
    group.add_argument(
        "--session-duration", type=float, default=60.0, help="sessions: seconds of charging"
    )
    group.add_argument(
        "--session-pause", type=float, default=10.0, help="sessions: seconds between sessions"
    )
    group.add_argument(
        "--meter-interval",
        type=int,
        default=10,
        help="sessions: MeterValueSampleInterval (s), one MeterValues per interval",
    )
    group.add_argument(
        "--storm-interval",
        type=float,
        default=60.0,
        help="storms: seconds between power cycles / connection drops (wall-clock aligned, "
        "so all workers storm together)",
    )
    group.add_argument(
        "--boot-timeout", type=float, default=120.0, help="seconds a charger may take to boot"
    )
    group.add_argument(
        "--ocpp-version",
        default="1.6",
        choices=list(VERSIONS),
        help="OCPP version of every simulated charger (2.0.1: a station with one EVSE)",
    )
    group.add_argument(
        "--ocpp-mix",
        default="",
        type=parse_mix,
        help="shares of versions instead, e.g. 1.6:70,2.0.1:30 (spread over the chargers)",
    )


def _mix(value: Any) -> tuple[tuple[str, int], ...]:
    """The mix as parsed here, or as a master forwarded it to a worker (text or lists)."""
    if not value:
        return ()
    if isinstance(value, str):
        return parse_mix(value)
    return tuple((str(version), int(share)) for version, share in value)


def parse_mix(text: str) -> tuple[tuple[str, int], ...]:
    """`1.6:70,2.0.1:30` -> (("1.6", 70), ("2.0.1", 30)); "" -> ()."""
    mix: list[tuple[str, int]] = []
    for part in filter(None, (item.strip() for item in text.split(","))):
        version, _, share = part.partition(":")
        if version not in VERSIONS or not share.isdigit() or int(share) <= 0:
            raise argparse.ArgumentTypeError(
                f"{part!r}: each part is VERSION:SHARE, a version of {', '.join(VERSIONS)} "
                "and a whole share above 0"
            )
        if version in dict(mix):
            raise argparse.ArgumentTypeError(f"{version} is named twice")
        mix.append((version, int(share)))
    return tuple(mix)


class _ProfileAction(argparse.Action):
    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.profile = values  # Locust's run label


@dataclass(frozen=True, slots=True)
class LoadOptions:
    csms_url: str
    id_prefix: str
    profile: str
    password: str | None
    tls_ca: str | None
    cert: str | None
    key: str | None
    id_tag: str
    heartbeat_interval: int
    status_interval: float
    session_duration: float
    session_pause: float
    meter_interval: int
    storm_interval: float
    boot_timeout: float
    ocpp_mix: tuple[tuple[str, int], ...] = (("1.6", 1),)  # versions and their shares

    @classmethod
    def from_parsed(cls, parsed: argparse.Namespace) -> LoadOptions:
        def text(name: str) -> str | None:
            value = getattr(parsed, name, "") or ""
            return str(value) or None

        return cls(
            csms_url=str(parsed.csms_url),
            id_prefix=str(parsed.id_prefix),
            profile=str(parsed.ocpp_profile),
            password=text("password"),
            tls_ca=text("tls_ca"),
            cert=text("cert"),
            key=text("key"),
            id_tag=str(parsed.id_tag),
            heartbeat_interval=int(parsed.heartbeat_interval),
            status_interval=float(parsed.status_interval),
            session_duration=float(parsed.session_duration),
            session_pause=float(parsed.session_pause),
            meter_interval=int(parsed.meter_interval),
            storm_interval=float(parsed.storm_interval),
            boot_timeout=float(parsed.boot_timeout),
            ocpp_mix=_mix(getattr(parsed, "ocpp_mix", None))
            or ((str(getattr(parsed, "ocpp_version", "1.6")), 1),),
        )

    def version_of(self, number: int) -> str:
        """The OCPP version of charger `number`: the mix's shares, spread evenly over the
        numbers (a golden-ratio sequence), so any count of users gets about the shares."""
        total = sum(share for _, share in self.ocpp_mix)
        point = (number * GOLDEN) % 1.0 * total
        for version, share in self.ocpp_mix:
            if point < share:
                return version
            point -= share
        return self.ocpp_mix[-1][0]

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for a wss:// URL (None for ws://); build once per process."""
        if not self.csms_url.startswith("wss://"):
            return None
        return tls_context(self.tls_ca, self.cert, self.key)
