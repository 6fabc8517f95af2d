"""What a charge point is: identity, nameplate, connectors, keys, credentials, timings."""

from __future__ import annotations

from dataclasses import dataclass, field

from .connection import Backoff, Limits
from .faults import Faults
from .meter import EV


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
    max_power_w: float = 22_000.0  # per connector
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
