"""What an OCPP 1.6 charge point holds: its configuration keys, authorization data, charging
profiles, connectors, firmware and timers, shared by the parts of its behaviour."""

from __future__ import annotations

from ..behaviour import Services
from ..errors import InvalidAction
from ..meter import Meter
from ..timers import Timers
from .auth import AuthStore
from .config import Configuration
from .connector import Connector
from .profiles import ProfileStore

__all__ = ["State16"]


class State16:
    """The 1.6 state of one charge point, and the station it runs on."""

    __slots__ = (
        "auth",
        "config",
        "connectors",
        "firmware_version",
        "identity",
        "profiles",
        "station",
        "timers",
    )

    def __init__(self, station: Services) -> None:
        self.station = station
        self.identity = station.identity
        spec = station.spec
        overrides = {"NumberOfConnectors": str(spec.connectors), **spec.configuration}
        self.config = Configuration(overrides, spec.custom_keys)
        self.auth = AuthStore(self.config)
        self.profiles = ProfileStore(self.config.get_int("ChargeProfileMaxStackLevel"))
        self.connectors: dict[int, Connector] = {
            n: Connector(
                n,
                Meter(
                    max_power_w=spec.max_power_w,
                    voltage=spec.voltage,
                    phases=spec.phases,
                    clock=station.clock,
                    rng=station.rng,
                ),
            )
            for n in range(spec.connectors + 1)
        }
        self.firmware_version = spec.firmware_version
        self.timers = Timers(station.spawn)

    def connector(self, connector_id: int) -> Connector:
        try:
            return self.connectors[connector_id]
        except KeyError:
            raise InvalidAction(f"{self.identity} has no connector {connector_id}") from None

    def seconds(self, key: str) -> float:
        """An interval configuration key in real seconds (scaled by `spec.time_scale`)."""
        return self.config.get_int(key) * self.station.spec.time_scale
