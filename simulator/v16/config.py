"""OCPP 1.6 configuration keys: the standard ones with their access and type, plus custom ones.

Definitions are shared by every charge point; each charge point holds only a dict of values,
so a fleet of thousands stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["int", "bool", "csl", "str"]

MEASURANDS = frozenset(
    {
        "Current.Export",
        "Current.Import",
        "Current.Offered",
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register",
        "Energy.Active.Export.Interval",
        "Energy.Active.Import.Interval",
        "Frequency",
        "Power.Active.Export",
        "Power.Active.Import",
        "Power.Factor",
        "Power.Offered",
        "RPM",
        "SoC",
        "Temperature",
        "Voltage",
    }
)
FEATURE_PROFILES = frozenset(
    {
        "Core",
        "FirmwareManagement",
        "LocalAuthListManagement",
        "Reservation",
        "SmartCharging",
        "RemoteTrigger",
    }
)


@dataclass(frozen=True, slots=True)
class KeyDef:
    name: str
    kind: Kind
    readonly: bool = False
    default: str = ""
    hidden: bool = False  # write-only (AuthorizationKey): never reported by GetConfiguration
    max_items_key: str | None = None  # for comma-separated lists
    choices: frozenset[str] | None = None
    reboot_required: bool = False


def _k(name: str, kind: Kind, default: str, readonly: bool = False, **kw: Any) -> KeyDef:
    return KeyDef(name, kind, readonly, default, **kw)


STANDARD_KEYS: dict[str, KeyDef] = {
    d.name: d
    for d in (
        # Core profile
        _k("AllowOfflineTxForUnknownId", "bool", "false"),
        _k("AuthorizationCacheEnabled", "bool", "true"),
        _k("AuthorizeRemoteTxRequests", "bool", "true"),
        _k("BlinkRepeat", "int", "3"),
        _k("ClockAlignedDataInterval", "int", "0"),
        _k("ConnectionTimeOut", "int", "60"),
        _k("ConnectorPhaseRotation", "csl", "0.RST"),
        _k("ConnectorPhaseRotationMaxLength", "int", "10", True),
        _k("GetConfigurationMaxKeys", "int", "100", True),
        _k("HeartbeatInterval", "int", "300"),
        _k("LightIntensity", "int", "50"),
        _k("LocalAuthorizeOffline", "bool", "true"),
        _k("LocalPreAuthorize", "bool", "false"),
        _k("MaxEnergyOnInvalidId", "int", "0"),
        _k(
            "MeterValuesAlignedData",
            "csl",
            "Energy.Active.Import.Register",
            max_items_key="MeterValuesAlignedDataMaxLength",
            choices=MEASURANDS,
        ),
        _k("MeterValuesAlignedDataMaxLength", "int", "8", True),
        _k(
            "MeterValuesSampledData",
            "csl",
            "Energy.Active.Import.Register,Power.Active.Import",
            max_items_key="MeterValuesSampledDataMaxLength",
            choices=MEASURANDS,
        ),
        _k("MeterValuesSampledDataMaxLength", "int", "8", True),
        _k("MeterValueSampleInterval", "int", "60"),
        _k("MinimumStatusDuration", "int", "0"),
        _k("NumberOfConnectors", "int", "1", True),
        _k("ResetRetries", "int", "1"),
        _k("StopTransactionOnEVSideDisconnect", "bool", "true"),
        _k("StopTransactionOnInvalidId", "bool", "true"),
        _k(
            "StopTxnAlignedData",
            "csl",
            "",
            max_items_key="StopTxnAlignedDataMaxLength",
            choices=MEASURANDS,
        ),
        _k("StopTxnAlignedDataMaxLength", "int", "8", True),
        _k(
            "StopTxnSampledData",
            "csl",
            "Energy.Active.Import.Register",
            max_items_key="StopTxnSampledDataMaxLength",
            choices=MEASURANDS,
        ),
        _k("StopTxnSampledDataMaxLength", "int", "8", True),
        _k("SupportedFeatureProfiles", "csl", ",".join(sorted(FEATURE_PROFILES)), True),
        _k("SupportedFeatureProfilesMaxLength", "int", "6", True),
        _k("TransactionMessageAttempts", "int", "3"),
        _k("TransactionMessageRetryInterval", "int", "10"),
        _k("UnlockConnectorOnEVSideDisconnect", "bool", "true"),
        _k("WebSocketPingInterval", "int", "0"),
        # Local auth list management
        _k("LocalAuthListEnabled", "bool", "true"),
        _k("LocalAuthListMaxLength", "int", "1000", True),
        _k("SendLocalListMaxLength", "int", "100", True),
        # Reservation
        _k("ReserveConnectorZeroSupported", "bool", "false", True),
        # Smart charging
        _k("ChargeProfileMaxStackLevel", "int", "10", True),
        _k("ChargingScheduleAllowedChargingRateUnit", "csl", "Current,Power", True),
        _k("ChargingScheduleMaxPeriods", "int", "24", True),
        _k("ConnectorSwitch3to1PhaseSupported", "bool", "false", True),
        _k("MaxChargingProfilesInstalled", "int", "20", True),
        # Security whitepaper
        _k("SecurityProfile", "int", "0", reboot_required=True),
        _k("AuthorizationKey", "str", "", hidden=True),
        _k("CpoName", "str", ""),
        _k("AdditionalRootCertificateCheck", "bool", "false", True),
        _k("CertificateSignedMaxChainSize", "int", "10000", True),
        _k("CertificateStoreMaxLength", "int", "20", True),
    )
}


class Configuration:
    """The configuration keys of one charge point."""

    __slots__ = ("_custom", "_values", "on_change")

    def __init__(
        self,
        overrides: Mapping[str, str] | None = None,
        custom: Mapping[str, tuple[str, bool]] | None = None,
    ) -> None:
        self._values: dict[str, str] = {}
        self._custom: dict[str, KeyDef] = {}
        # called with (key, value) after a successful change by the CSMS or the driver
        self.on_change: Callable[[str, str], None] | None = None
        for name, (value, readonly) in (custom or {}).items():
            self._custom[name] = KeyDef(name, "str", readonly, value)
        for name, value in (overrides or {}).items():
            self.set(name, value)

    def definition(self, name: str) -> KeyDef | None:
        return STANDARD_KEYS.get(name) or self._custom.get(name)

    def names(self) -> list[str]:
        return [*STANDARD_KEYS, *self._custom]

    def get(self, name: str) -> str:
        found = self.definition(name)
        if found is None:
            raise KeyError(name)
        return self._values.get(name, found.default)

    def get_int(self, name: str) -> int:
        return int(self.get(name) or 0)

    def get_bool(self, name: str) -> bool:
        return self.get(name).lower() == "true"

    def get_list(self, name: str) -> list[str]:
        return [item.strip() for item in self.get(name).split(",") if item.strip()]

    def set(self, name: str, value: str | int | bool) -> None:
        """Set a key locally (readonly ones too): how the charge point is built or driven."""
        text = str(value).lower() if isinstance(value, bool) else str(value)
        found = self.definition(name)
        if found is None:
            self._custom[name] = KeyDef(name, "str", False, text)
            return
        self._values[name] = text
        if self.on_change is not None:
            self.on_change(name, text)

    def change(self, name: str, value: str) -> str:
        """Apply a ChangeConfiguration: Accepted, Rejected, RebootRequired or NotSupported."""
        found = self.definition(name)
        if found is None:
            return "NotSupported"
        if found.readonly or not self._valid(found, value):
            return "Rejected"
        self.set(name, value.lower() if found.kind == "bool" else value)
        return "RebootRequired" if found.reboot_required else "Accepted"

    def _valid(self, found: KeyDef, value: str) -> bool:
        if found.kind == "int":
            return value.strip().isdigit()
        if found.kind == "bool":
            return value.lower() in ("true", "false")
        if found.kind == "csl":
            items = [item.strip() for item in value.split(",") if item.strip()]
            if found.choices is not None and any(item not in found.choices for item in items):
                return False
            return found.max_items_key is None or len(items) <= self.get_int(found.max_items_key)
        return len(value) <= 500

    def report(self, keys: Iterable[str] | None) -> dict[str, Any]:
        """The GetConfiguration answer for `keys` (all keys when empty or None)."""
        wanted = list(keys or [])
        names = wanted or self.names()
        known: list[dict[str, Any]] = []
        unknown: list[str] = []
        for name in names:
            found = self.definition(name)
            if found is None:
                unknown.append(name)
            elif not found.hidden:
                known.append({"key": name, "readonly": found.readonly, "value": self.get(name)})
        result: dict[str, Any] = {"configurationKey": known}
        if unknown:
            result["unknownKey"] = unknown
        return result
