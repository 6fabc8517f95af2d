"""CSMS settings; the CLI fills them from options and OCPP_BENCH_* environment variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CsmsConfig:
    db_path: Path = Path("ocpp-bench.db")  # the SQLite file, unless db_url is given
    db_url: str | None = None  # postgresql://user:password@host/database
    node_id: str | None = None  # this node's name in a cluster on db_url; None: alone
    cluster_lease: float = 10.0  # seconds a node's claims outlive its last renewal
    host: str = "0.0.0.0"
    ocpp_port: int = 9220  # ws:// listener: security profiles 0 and 1
    tls_port: int | None = None  # wss:// listener, profile 2 (needs tls_cert)
    mtls_port: int | None = None  # wss:// with client certificates, profile 3
    wss_port: int | None = None  # one wss:// for profiles 2 and 3 (client certificate optional)
    tls_cert: Path | None = None  # PEM certificate chain of the CSMS
    tls_key: Path | None = None  # its key (None: in tls_cert)
    tls_client_ca: Path | None = None  # CA of the chargers' certificates (profile 3)
    cp_ca_cert: Path | None = None  # CA signing the chargers' CSRs (None: SignCertificate refused)
    cp_ca_key: Path | None = None  # its key (None: in cp_ca_cert)
    api_port: int | None = 3000  # None: no HTTP API
    api_token: str | None = None  # None: the database's (made if missing)
    auto_register: bool = False
    accept_any_tag: bool = False  # free vend: a tag unknown to the registry is Accepted
    heartbeat_interval: int = 300
    boot_retry_interval: int = 30
    offline_after: float | None = None  # seconds of silence; None: 2 x heartbeat + 60
    monitor_interval: float = 5.0
    ping_interval: float | None = 30.0
    ping_timeout: float | None = 30.0
    close_timeout: float = 5.0  # wait for the peer's close frame before dropping TCP
    max_frame_size: int = 1024 * 1024
    call_timeout: float = 30.0
    log_flush_interval: float = 0.2
    log_retention_days: float | None = None  # prune the message log past this age; None: keep
    meter_retention_days: float | None = None  # same, meter values outside transactions
    retention_interval: float = 3600.0  # seconds between two pruning (and optimize) passes
    gc_freeze_interval: float | None = None  # `csms serve`: 10 (see heap.py); None: off
    identity_max_length: int = 48
    vendor_ids: tuple[str, ...] = field(default_factory=lambda: ("ocpp-bench",))

    @property
    def silence_limit(self) -> float:
        if self.offline_after is not None:
            return self.offline_after
        return 2 * self.heartbeat_interval + 60

    @property
    def db_location(self) -> str | Path:
        """What `Database.open` takes: the PostgreSQL URL, or else the SQLite file."""
        return self.db_url or self.db_path
