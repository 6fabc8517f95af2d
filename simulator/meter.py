"""An energy meter and an EV battery: realistic, monotonic energy with plausible power,
current, voltage and state of charge, following the power limit in force."""

from __future__ import annotations

from dataclasses import dataclass

from .clock import SYSTEM_CLOCK, SYSTEM_RANDOM, Clock, Random

Reading = tuple[float, str, str]  # value, unit ("" for none), location


@dataclass(slots=True)
class EV:
    """The car at the connector: battery size, state of charge and what it can take."""

    capacity_wh: float = 60_000.0
    soc: float = 20.0  # percent
    max_power_w: float = 11_000.0
    efficiency: float = 0.92

    @property
    def full(self) -> bool:
        return self.soc >= 100.0

    def acceptance_w(self) -> float:
        """What the EV draws now: full power up to 80 % SoC, then tapering to 5 % at 100 %."""
        if self.full:
            return 0.0
        if self.soc <= 80.0:
            return self.max_power_w
        return self.max_power_w * max(0.05, (100.0 - self.soc) / 20.0)

    def absorb(self, energy_wh: float) -> None:
        self.soc = min(100.0, self.soc + 100.0 * energy_wh * self.efficiency / self.capacity_wh)


class Meter:
    """One connector's meter. Power is held constant between updates and integrated exactly."""

    __slots__ = (
        "_clock",
        "_last",
        "_power_w",
        "_rng",
        "energy_wh",
        "ev",
        "flowing",
        "limit_w",
        "max_power_w",
        "phases",
        "voltage",
    )

    def __init__(
        self,
        *,
        max_power_w: float = 22_000.0,
        voltage: float = 230.0,
        phases: int = 3,
        energy_wh: float = 0.0,
        clock: Clock = SYSTEM_CLOCK,
        rng: Random = SYSTEM_RANDOM,
    ) -> None:
        self.max_power_w = max_power_w
        self.voltage = voltage
        self.phases = phases
        self.energy_wh = energy_wh
        self.limit_w: float | None = None  # from the charging profiles in force
        self.ev: EV | None = None
        self.flowing = False  # energy may flow (transaction running, not suspended)
        self._clock = clock
        self._rng = rng
        self._last = clock.monotonic()
        self._power_w = 0.0

    @property
    def offered_w(self) -> float:
        return self.max_power_w if self.limit_w is None else min(self.max_power_w, self.limit_w)

    @property
    def power_w(self) -> float:
        self.update()
        return self._power_w

    def update(self) -> None:
        """Integrate the energy since the last update, then settle the power for what follows."""
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._last)
        self._last = now
        if elapsed and self._power_w:
            energy = self._power_w * elapsed / 3600.0
            self.energy_wh += energy
            if self.ev is not None:
                self.ev.absorb(energy)
        self._power_w = self._target_w()

    def _target_w(self) -> float:
        if not self.flowing or self.ev is None:
            return 0.0
        target = min(self.offered_w, self.ev.acceptance_w())
        if target <= 0.0:
            return 0.0
        return target * self._rng.uniform(0.985, 1.0)  # a little ripple, never above the limit

    def set(
        self,
        *,
        flowing: bool | None = None,
        limit_w: float | bool | None = False,
        ev: EV | bool | None = False,
    ) -> None:
        """Change what drives the power; the energy so far is integrated first."""
        self.update()
        if flowing is not None:
            self.flowing = flowing
        if limit_w is not False:
            self.limit_w = limit_w if not isinstance(limit_w, bool) else None
        if ev is not False:
            self.ev = ev if isinstance(ev, EV) else None
        self._power_w = self._target_w()

    def register_wh(self) -> int:
        self.update()
        return int(self.energy_wh)

    def readings(self) -> dict[str, Reading]:
        """What the meter measures now, by measurand: (value, unit, location). A version
        writes them in its own form (1.6: `simulator.v16.metering`)."""
        self.update()
        power = self._power_w
        voltage = self.voltage + (self._rng.uniform(-1.5, 1.5) if power else 0.0)
        current = power / (voltage * self.phases) if power else 0.0
        values: dict[str, Reading] = {
            "Energy.Active.Import.Register": (self.energy_wh, "Wh", "Outlet"),
            "Power.Active.Import": (power, "W", "Outlet"),
            "Power.Offered": (self.offered_w, "W", "Outlet"),
            "Current.Import": (current, "A", "Outlet"),
            "Current.Offered": (self.offered_w / (self.voltage * self.phases), "A", "Outlet"),
            "Voltage": (voltage, "V", "Outlet"),
            "Frequency": (50.0, "", "Outlet"),
            "Temperature": (25.0 + power / 2000.0, "Celsius", "Body"),
            "Power.Factor": (0.99, "", "Outlet"),
        }
        if self.ev is not None:
            values["SoC"] = (self.ev.soc, "Percent", "EV")
        return values
