"""What a 2.0.1 station holds: its device model, EVSEs and connectors, authorization data,
availability, boot reason and timers, shared by the parts of its behaviour; and the live
device-model values read from them."""

from __future__ import annotations

from ..behaviour import Services
from ..errors import InvalidAction
from ..meter import Meter
from ..profiles import Profiles
from ..timers import Timers
from .auth import AuthStore
from .device_model import DeviceModel
from .topology import Connector201, Evse, Status
from .variables import Variable

__all__ = ["State201"]


class State201:
    """The 2.0.1 state of one station, and the station it runs on."""

    __slots__ = (
        "auth",
        "boot_reason",
        "connectors",
        "evses",
        "firmware_version",
        "identity",
        "model",
        "operative",
        "profiles",
        "reset_scheduled",
        "station",
        "timers",
    )

    def __init__(self, station: Services) -> None:
        self.station = station
        self.identity = station.identity
        spec = station.spec
        topology = tuple(spec.topology())
        self.model = DeviceModel(topology, self.live)
        self.auth = AuthStore(self.model, station)
        self.profiles = Profiles("ChargingStationMaxProfile")  # kept across reboots
        self.evses: dict[int, Evse] = {}
        self.connectors: dict[int, Connector201] = {}  # by number on the station, from 1
        for evse_id, count in enumerate(topology, 1):
            meter = Meter(
                max_power_w=spec.max_power_w,
                voltage=spec.voltage,
                phases=spec.phases,
                clock=station.clock,
                rng=station.rng,
            )
            evse = self.evses[evse_id] = Evse(evse_id, meter)
            for connector_id in range(1, count + 1):
                connector = Connector201(len(self.connectors) + 1, evse, connector_id)
                evse.connectors.append(connector)
                self.connectors[connector.number] = connector
        self.firmware_version = spec.firmware_version
        self.operative = True  # the station as a whole (ChangeAvailability without an EVSE)
        self.reset_scheduled = False  # an OnIdle Reset of the station, waiting for idle
        self.boot_reason = "PowerUp"  # of the next BootNotification
        self.timers = Timers(station.spawn)

    def connector(self, number: int) -> Connector201:
        try:
            return self.connectors[number]
        except KeyError:
            raise InvalidAction(f"{self.identity} has no connector {number}") from None

    def evse(self, evse_id: int) -> Evse | None:
        return self.evses.get(evse_id)

    def seconds(self, name: str) -> float:
        """An interval variable in real seconds (scaled by `spec.time_scale`)."""
        return self.model.get_int(name) * self.station.spec.time_scale

    # -- the live values of the device model -------------------------------------------------

    def live(self, var: Variable, attribute: str) -> str | None:
        station = self.station
        name = var.name
        if var.component == "EVSE" or var.component == "Connector":
            return self._live_part(var, attribute)
        if name == "AvailabilityState":
            return "Available" if self.operative else "Unavailable"
        if name == "Available":
            return "true"
        if name == "Problem":
            return str(any(c.faulted for c in self.connectors.values())).lower()
        if name == "SecurityProfile" or name == "ActiveNetworkProfile":
            return str(
                station.security().profile if name == "SecurityProfile" else station.route().slot
            )
        entries = {
            "LocalAuthListCtrlr": len(self.auth.local_list),
            "SmartChargingCtrlr": len(self.profiles.installed),
        }
        fixed = {
            "Identity": station.identity,
            "Model": station.spec.model,
            "VendorName": station.spec.vendor,
            "SupplyPhases": str(station.spec.phases),
            "DateTime": station.timestamp(),
            "CertificateEntries": str(self.auth.certificate_count),
            "Entries": str(entries.get(var.component, 0)),
        }
        return fixed.get(name)

    def _live_part(self, var: Variable, attribute: str) -> str | None:
        evse = self.evses.get(var.evse or 0)
        if evse is None:
            return None
        connectors = (
            evse.connectors if var.connector is None else [evse.connectors[var.connector - 1]]
        )
        name = var.name
        if name == "AvailabilityState":
            statuses = {c.status for c in connectors}
            for status in (Status.FAULTED, Status.OCCUPIED, Status.RESERVED, Status.AVAILABLE):
                if status in statuses:
                    return str(status)
            return str(Status.UNAVAILABLE)
        if name == "Available":
            return str(any(c.status != Status.UNAVAILABLE for c in connectors)).lower()
        if name == "Problem":
            return str(any(c.faulted for c in connectors)).lower()
        if name == "SupplyPhases":
            return str(evse.meter.phases)
        if name == "Power":
            meter = evse.meter
            watts = {"Actual": meter.power_w, "Target": meter.offered_w}
            return f"{watts.get(attribute, meter.max_power_w):.0f}"
        return None
