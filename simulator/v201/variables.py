"""The variables of a 2.0.1 station's device model (OCPP 2.0.1 part 2, appendix 3): per
component, its name, data type, unit, limits, values list, mutability, attributes and
default. The definitions are shared by every station of a topology; a station keeps only
the values set on it (`simulator.v201.device_model`)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ALIASES", "MEASURANDS", "Variable", "definitions"]

MEASURANDS = (
    "Current.Export",
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Active.Net",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "SoC",
    "Voltage",
)
TX_POINTS = (
    "ParkingBayOccupancy",
    "EVConnected",
    "Authorized",
    "DataSigned",
    "PowerPathClosed",
    "EnergyTransfer",
)
AVAILABILITY = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
RO, RW, WO = "ReadOnly", "ReadWrite", "WriteOnly"


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable of one component (with its EVSE and connector, for those of an EVSE)."""

    component: str
    name: str
    data_type: str  # string decimal integer dateTime boolean OptionList SequenceList MemberList
    default: str = ""
    mutability: str = RW
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: tuple[str, ...] | None = None
    instance: str | None = None  # the variable's instance
    evse: int | None = None
    connector: int | None = None
    # the attribute types it has, with the default of each beyond Actual
    others: tuple[tuple[str, str], ...] = ()
    reboot_required: bool = False
    live: bool = False  # its Actual value is the station's state, read when asked
    summary: bool = False  # part of a SummaryInventory

    @property
    def attributes(self) -> tuple[str, ...]:
        return ("Actual", *(kind for kind, _ in self.others))

    def default_of(self, attribute: str) -> str:
        if attribute == "Actual":
            return self.default
        return dict(self.others).get(attribute, "")

    @property
    def key(self) -> str:
        """`Component.Variable[Instance]`, with `@evse.connector` for those of an EVSE."""
        where = ""
        if self.evse is not None:
            where = f"@{self.evse}" + (f".{self.connector}" if self.connector is not None else "")
        instance = f"[{self.instance}]" if self.instance else ""
        return f"{self.component}{where}.{self.name}{instance}"


def _v(component: str, name: str, data_type: str, default: str = "", **kw: object) -> Variable:
    return Variable(component, name, data_type, default, **kw)  # type: ignore[arg-type]


def _enabled(component: str, **kw: object) -> list[Variable]:
    """The Enabled and Available variables of a controller."""
    return [
        _v(component, "Enabled", "boolean", "true", **kw),
        _v(component, "Available", "boolean", "true", mutability=RO),
    ]


_MEASURAND_LIST = {"values_list": MEASURANDS, "max_limit": 1000}
_S = {"unit": "s", "min_limit": 0}

STATION: tuple[Variable, ...] = (
    # OCPPCommCtrlr
    _v("OCPPCommCtrlr", "ActiveNetworkProfile", "integer", "0", mutability=RO, live=True),
    _v("OCPPCommCtrlr", "FileTransferProtocols", "MemberList", "HTTPS", mutability=RO,
       values_list=("FTP", "FTPS", "HTTP", "HTTPS", "SFTP")),
    _v("OCPPCommCtrlr", "HeartbeatInterval", "integer", "300", **_S),
    _v("OCPPCommCtrlr", "MessageTimeout", "integer", "30", instance="Default", **_S),
    _v("OCPPCommCtrlr", "MessageAttempts", "integer", "3", instance="TransactionEvent",
       min_limit=1, max_limit=10),
    _v("OCPPCommCtrlr", "MessageAttemptInterval", "integer", "10", instance="TransactionEvent",
       **_S),
    _v("OCPPCommCtrlr", "NetworkConfigurationPriority", "SequenceList", "0",
       reboot_required=True, max_limit=100, values_list=("0", "1", "2", "3")),
    _v("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "integer", "3", min_limit=1),
    _v("OCPPCommCtrlr", "OfflineThreshold", "integer", "60", **_S),
    _v("OCPPCommCtrlr", "QueueAllMessages", "boolean", "false"),
    _v("OCPPCommCtrlr", "ResetRetries", "integer", "1", min_limit=0),
    _v("OCPPCommCtrlr", "RetryBackOffRandomRange", "integer", "10", **_S),
    _v("OCPPCommCtrlr", "RetryBackOffRepeatTimes", "integer", "5", min_limit=0),
    _v("OCPPCommCtrlr", "RetryBackOffWaitMinimum", "integer", "5", **_S),
    _v("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "boolean", "true"),
    _v("OCPPCommCtrlr", "WebSocketPingInterval", "integer", "0", **_S),
    # SecurityCtrlr
    _v("SecurityCtrlr", "AdditionalRootCertificateCheck", "boolean", "false", mutability=RO),
    _v("SecurityCtrlr", "BasicAuthPassword", "string", "", mutability=WO, min_limit=16,
       max_limit=40),
    _v("SecurityCtrlr", "CertificateEntries", "integer", "0", mutability=RO, live=True),
    _v("SecurityCtrlr", "CertSigningRepeatTimes", "integer", "3", min_limit=0),
    _v("SecurityCtrlr", "CertSigningWaitMinimum", "integer", "30", **_S),
    _v("SecurityCtrlr", "Identity", "string", "", mutability=RO, live=True, max_limit=48),
    _v("SecurityCtrlr", "MaxCertificateChainSize", "integer", "10000", mutability=RO),
    _v("SecurityCtrlr", "OrganizationName", "string", "", max_limit=100),
    _v("SecurityCtrlr", "SecurityProfile", "integer", "0", mutability=RO, live=True,
       min_limit=0, max_limit=3),
    # AuthCtrlr
    _v("AuthCtrlr", "Enabled", "boolean", "true"),
    _v("AuthCtrlr", "AdditionalInfoItemsPerMessage", "integer", "10", mutability=RO),
    _v("AuthCtrlr", "AuthorizeRemoteStart", "boolean", "true"),
    _v("AuthCtrlr", "DisableRemoteAuthorization", "boolean", "false"),
    _v("AuthCtrlr", "LocalAuthorizeOffline", "boolean", "true"),
    _v("AuthCtrlr", "LocalPreAuthorize", "boolean", "false"),
    _v("AuthCtrlr", "MasterPassGroupId", "string", "", max_limit=36),
    _v("AuthCtrlr", "OfflineTxForUnknownIdEnabled", "boolean", "false"),
    # AuthCacheCtrlr
    *_enabled("AuthCacheCtrlr"),
    _v("AuthCacheCtrlr", "DisablePostAuthorize", "boolean", "false"),
    _v("AuthCacheCtrlr", "LifeTime", "integer", "86400", **_S),
    _v("AuthCacheCtrlr", "Policy", "OptionList", "LRU",
       values_list=("LRU", "LFU", "FIFO", "CUSTOM")),
    _v("AuthCacheCtrlr", "Storage", "integer", "65536", mutability=RO, unit="B"),
    # LocalAuthListCtrlr
    *_enabled("LocalAuthListCtrlr"),
    _v("LocalAuthListCtrlr", "BytesPerMessage", "integer", "65536", mutability=RO, unit="B"),
    _v("LocalAuthListCtrlr", "DisablePostAuthorize", "boolean", "false"),
    _v("LocalAuthListCtrlr", "Entries", "integer", "0", mutability=RO, live=True),
    _v("LocalAuthListCtrlr", "ItemsPerMessage", "integer", "100", mutability=RO),
    _v("LocalAuthListCtrlr", "Storage", "integer", "1048576", mutability=RO, unit="B"),
    # TxCtrlr
    _v("TxCtrlr", "EVConnectionTimeOut", "integer", "60", **_S),
    _v("TxCtrlr", "MaxEnergyOnInvalidId", "integer", "0", unit="Wh", min_limit=0),
    _v("TxCtrlr", "StopTxOnEVSideDisconnect", "boolean", "true"),
    _v("TxCtrlr", "StopTxOnInvalidId", "boolean", "true"),
    _v("TxCtrlr", "TxBeforeAcceptedEnabled", "boolean", "false"),
    _v("TxCtrlr", "TxStartPoint", "MemberList", "PowerPathClosed", values_list=TX_POINTS),
    _v("TxCtrlr", "TxStopPoint", "MemberList", "EVConnected,Authorized", values_list=TX_POINTS),
    # SampledDataCtrlr
    *_enabled("SampledDataCtrlr"),
    _v("SampledDataCtrlr", "RegisterValuesWithoutPhases", "boolean", "true"),
    _v("SampledDataCtrlr", "SignReadings", "boolean", "false"),
    _v("SampledDataCtrlr", "TxEndedInterval", "integer", "0", **_S),
    _v("SampledDataCtrlr", "TxEndedMeasurands", "MemberList", "Energy.Active.Import.Register",
       **_MEASURAND_LIST),
    _v("SampledDataCtrlr", "TxStartedMeasurands", "MemberList", "Energy.Active.Import.Register",
       **_MEASURAND_LIST),
    _v("SampledDataCtrlr", "TxUpdatedInterval", "integer", "60", **_S),
    _v("SampledDataCtrlr", "TxUpdatedMeasurands", "MemberList",
       "Energy.Active.Import.Register,Power.Active.Import", **_MEASURAND_LIST),
    # AlignedDataCtrlr
    *_enabled("AlignedDataCtrlr"),
    _v("AlignedDataCtrlr", "Interval", "integer", "0", **_S),
    _v("AlignedDataCtrlr", "Measurands", "MemberList", "Energy.Active.Import.Register",
       **_MEASURAND_LIST),
    _v("AlignedDataCtrlr", "SendDuringIdle", "boolean", "false"),
    _v("AlignedDataCtrlr", "SignReadings", "boolean", "false"),
    _v("AlignedDataCtrlr", "TxEndedInterval", "integer", "0", **_S),
    _v("AlignedDataCtrlr", "TxEndedMeasurands", "MemberList", "", **_MEASURAND_LIST),
    # ReservationCtrlr
    *_enabled("ReservationCtrlr"),
    _v("ReservationCtrlr", "NonEvseSpecific", "boolean", "false", mutability=RO),
    # SmartChargingCtrlr
    *_enabled("SmartChargingCtrlr"),
    _v("SmartChargingCtrlr", "ACPhaseSwitchingSupported", "boolean", "false", mutability=RO),
    _v("SmartChargingCtrlr", "Entries", "integer", "0", mutability=RO, live=True,
       instance="ChargingProfiles", max_limit=20),
    _v("SmartChargingCtrlr", "ExternalControlSignalsEnabled", "boolean", "false"),
    _v("SmartChargingCtrlr", "LimitChangeSignificance", "decimal", "1.0", unit="Percent",
       min_limit=0, max_limit=100),
    _v("SmartChargingCtrlr", "NotifyChargingLimitWithSchedules", "boolean", "false"),
    _v("SmartChargingCtrlr", "PeriodsPerSchedule", "integer", "24", mutability=RO),
    _v("SmartChargingCtrlr", "Phases3to1", "boolean", "false", mutability=RO),
    _v("SmartChargingCtrlr", "ProfileStackLevel", "integer", "10", mutability=RO),
    _v("SmartChargingCtrlr", "RateUnit", "MemberList", "A,W", mutability=RO,
       values_list=("A", "W")),
    # DisplayMessageCtrlr
    *_enabled("DisplayMessageCtrlr"),
    _v("DisplayMessageCtrlr", "DisplayMessages", "integer", "0", mutability=RO, max_limit=10),
    _v("DisplayMessageCtrlr", "SupportedFormats", "MemberList", "ASCII,UTF8,URI",
       mutability=RO, values_list=("ASCII", "HTML", "URI", "UTF8")),
    _v("DisplayMessageCtrlr", "SupportedPriorities", "MemberList",
       "AlwaysFront,InFront,NormalCycle", mutability=RO,
       values_list=("AlwaysFront", "InFront", "NormalCycle")),
    # DeviceDataCtrlr
    *(
        _v("DeviceDataCtrlr", "ItemsPerMessage", "integer", items, mutability=RO,
           instance=instance)
        for instance, items in (("GetReport", "20"), ("GetVariables", "50"),
                                ("SetVariables", "50"))
    ),
    *(
        _v("DeviceDataCtrlr", "BytesPerMessage", "integer", "8192", mutability=RO, unit="B",
           instance=instance)
        for instance in ("GetReport", "GetVariables", "SetVariables")
    ),
    _v("DeviceDataCtrlr", "ConfigurationValueSize", "integer", "1000", mutability=RO),
    _v("DeviceDataCtrlr", "ReportingValueSize", "integer", "2500", mutability=RO),
    _v("DeviceDataCtrlr", "ValueSize", "integer", "2500", mutability=RO),
    # ClockCtrlr
    _v("ClockCtrlr", "DateTime", "dateTime", "", mutability=RO, live=True),
    _v("ClockCtrlr", "TimeSource", "SequenceList", "Heartbeat",
       values_list=("Heartbeat", "NTP", "GPS", "RealTimeClock", "MobileNetwork",
                    "RadioTimeTransmitter")),
    _v("ClockCtrlr", "TimeZone", "string", "", max_limit=50),
    _v("ClockCtrlr", "TimeAdjustmentReportingThreshold", "integer", "20", **_S),
    # ChargingStation
    _v("ChargingStation", "AvailabilityState", "OptionList", "Available", mutability=RO,
       values_list=AVAILABILITY, live=True, summary=True),
    _v("ChargingStation", "Available", "boolean", "true", mutability=RO, live=True,
       summary=True),
    _v("ChargingStation", "Model", "string", "", mutability=RO, live=True),
    _v("ChargingStation", "VendorName", "string", "", mutability=RO, live=True),
    _v("ChargingStation", "Problem", "boolean", "false", mutability=RO, live=True,
       summary=True),
    _v("ChargingStation", "SupplyPhases", "integer", "3", mutability=RO, live=True),
    _v("ChargingStation", "AllowNewSessionsPendingFirmwareUpdate", "boolean", "false"),
)  # fmt: skip


def _evse(evse: int, connectors: int) -> Iterator[Variable]:
    yield from (
        _v("EVSE", "AvailabilityState", "OptionList", "Available", mutability=RO, evse=evse,
           values_list=AVAILABILITY, live=True, summary=True),
        _v("EVSE", "Available", "boolean", "true", mutability=RO, evse=evse, live=True,
           summary=True),
        _v("EVSE", "Power", "decimal", "0", mutability=RO, evse=evse, unit="W", live=True,
           min_limit=0, others=(("Target", ""), ("MaxSet", ""))),
        _v("EVSE", "Problem", "boolean", "false", mutability=RO, evse=evse, live=True,
           summary=True),
        _v("EVSE", "SupplyPhases", "integer", "3", mutability=RO, evse=evse, live=True),
    )  # fmt: skip
    for n in range(1, connectors + 1):
        yield from (
            _v("Connector", "AvailabilityState", "OptionList", "Available", mutability=RO,
               evse=evse, connector=n, values_list=AVAILABILITY, live=True, summary=True),
            _v("Connector", "Available", "boolean", "true", mutability=RO, evse=evse,
               connector=n, live=True, summary=True),
            _v("Connector", "ConnectorType", "string", "cType2", mutability=RO, evse=evse,
               connector=n),
            _v("Connector", "Problem", "boolean", "false", mutability=RO, evse=evse,
               connector=n, live=True, summary=True),
            _v("Connector", "SupplyPhases", "integer", "3", mutability=RO, evse=evse,
               connector=n, live=True),
        )  # fmt: skip


@functools.cache
def definitions(topology: tuple[int, ...]) -> tuple[Variable, ...]:
    """Every variable of a station with `topology` (connectors per EVSE), in report order;
    made once per topology, shared by its stations."""
    evses = [v for number, count in enumerate(topology, 1) for v in _evse(number, count)]
    return (*STATION, *evses)


# The 1.6 configuration key names a 2.0.1 station takes too (fleets, Locust, tests set them
# version-neutrally), and the variable each stands for.
ALIASES: dict[str, str] = {
    "HeartbeatInterval": "OCPPCommCtrlr.HeartbeatInterval",
    "WebSocketPingInterval": "OCPPCommCtrlr.WebSocketPingInterval",
    "MeterValueSampleInterval": "SampledDataCtrlr.TxUpdatedInterval",
    "MeterValuesSampledData": "SampledDataCtrlr.TxUpdatedMeasurands",
    "StopTxnSampledData": "SampledDataCtrlr.TxEndedMeasurands",
    "ClockAlignedDataInterval": "AlignedDataCtrlr.Interval",
    "MeterValuesAlignedData": "AlignedDataCtrlr.Measurands",
    "ConnectionTimeOut": "TxCtrlr.EVConnectionTimeOut",
    "StopTransactionOnEVSideDisconnect": "TxCtrlr.StopTxOnEVSideDisconnect",
    "StopTransactionOnInvalidId": "TxCtrlr.StopTxOnInvalidId",
    "TransactionMessageAttempts": "OCPPCommCtrlr.MessageAttempts[TransactionEvent]",
    "TransactionMessageRetryInterval": "OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]",
    "AuthorizeRemoteTxRequests": "AuthCtrlr.AuthorizeRemoteStart",
    "LocalAuthorizeOffline": "AuthCtrlr.LocalAuthorizeOffline",
    "LocalPreAuthorize": "AuthCtrlr.LocalPreAuthorize",
    "AllowOfflineTxForUnknownId": "AuthCtrlr.OfflineTxForUnknownIdEnabled",
    "AuthorizationCacheEnabled": "AuthCacheCtrlr.Enabled",
    "LocalAuthListEnabled": "LocalAuthListCtrlr.Enabled",
    "AuthorizationKey": "SecurityCtrlr.BasicAuthPassword",
    "ResetRetries": "OCPPCommCtrlr.ResetRetries",
    "UnlockConnectorOnEVSideDisconnect": "OCPPCommCtrlr.UnlockOnEVSideDisconnect",
}
