"""What a charge point is: identity, nameplate, connectors (and, for 2.0.1, the EVSEs that
group them), keys, credentials, timings."""

from __future__ import annotations

from dataclasses import dataclass, field

from .connection import Backoff, Limits
from .faults import Faults
from .meter import EV


@dataclass(frozen=True, slots=True)
class EvseSpec:
    """One EVSE of a 2.0.1 station: how many connectors it has (one is used at a time)."""

    connectors: int = 1


@dataclass(slots=True)
class ChargePointSpec:
    """Everything needed to build a simulated charge point (version-neutral)."""

    identity: str
    vendor: str = "ocpp-bench"
    model: str = "SimCharger"
    serial_number: str | None = None  # chargePointSerialNumber
    charge_box_serial_number: str | None = None
    firmware_version: str = "1.0.0"
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = "SimMeter"
    meter_serial_number: str | None = None
    connectors: int = 1
    # 2.0.1: the EVSEs and their connectors; None: one EVSE of one connector per `connectors`
    evses: list[EvseSpec] | None = None
    max_power_w: float = 22_000.0  # per connector (2.0.1: per EVSE)
    voltage: float = 230.0
    phases: int = 3
    configuration: dict[str, str] = field(default_factory=dict)  # standard key overrides
    custom_keys: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name: (value, ro)
    password: str | None = None  # Basic Auth (security profiles 1 and 2)
    security_profile: int | None = None  # None: 0/1/2 from URL scheme and password
    ev: EV = field(default_factory=EV)  # template of the EV plugged in by default
    boot_retry_s: float = 30.0  # when the CSMS gives interval 0, or does not answer
    call_timeout_s: float = 30.0
    operation_step_s: float = 0.0  # pause between firmware/diagnostics/log status steps
    reboot_to_install: bool = True  # UpdateFirmware reboots before reporting Installed
    # Seconds per second of the interval keys (HeartbeatInterval, MeterValueSampleInterval,
    # ClockAlignedDataInterval, ConnectionTimeOut, TransactionMessageRetryInterval, and the boot
    # retry interval): 0.1 makes a "1 s" key last 0.1 s, so tests run with sub-second timings.
    time_scale: float = 1.0
    backoff: Backoff = field(default_factory=Backoff)
    limits: Limits = field(default_factory=Limits)
    transcript_size: int = 2000  # frames kept; 0 for large fleets
    inbox_size: int = 64  # CSMS calls kept for expect_call() until claimed; 0 for large fleets
    ocpp_version: str = "1.6"
    faults: Faults = field(default_factory=Faults)  # misbehaviours to test a CSMS with

    def topology(self) -> list[int]:
        """Connectors per EVSE, EVSE 1 first (2.0.1)."""
        if self.evses is None:
            return [1] * self.connectors
        return [evse.connectors for evse in self.evses]

    @classmethod
    def lean(
        cls,
        identity: str,
        *,
        password: str | None = None,
        serial_number: str | None = None,
        connectors: int = 1,
        meter_interval_s: int = 10,
        faults: Faults | None = None,
    ) -> ChargePointSpec:
        """A charge point as fleets and load tests run thousands of them: no transcript, no
        inbox of CSMS calls, small WebSocket buffers, a back-off that spreads reconnects;
        MeterValues every `meter_interval_s` during transactions (0: none)."""
        return cls(
            identity,
            connectors=connectors,
            password=password,
            serial_number=serial_number,
            configuration={"MeterValueSampleInterval": str(meter_interval_s)},
            transcript_size=0,
            inbox_size=0,
            limits=Limits(max_queue=2, write_limit=2048, max_size=65536),
            backoff=Backoff(initial=1.0, maximum=30.0, jitter=2.0),
            faults=Faults() if faults is None else faults,
        )
