"""Energy delivered by a transaction, from its meter readings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..domain import Sample
from ..store import Row

REGISTER = "Energy.Active.Import.Register"

_WH_PER_UNIT = {None: 1.0, "": 1.0, "Wh": 1.0, "kWh": 1000.0}


def register_wh(sample: Row | dict[str, Any]) -> float | None:
    """An Energy.Active.Import.Register sample in Wh; None when it cannot be read."""
    factor = _WH_PER_UNIT.get(sample.get("unit"))
    try:
        value = float(sample["value"])
    except (TypeError, ValueError):
        return None
    return None if factor is None else value * factor


def energy_delivered(transaction: Row, latest: Row | None) -> float | None:
    """Wh delivered: meterStop - meterStart once stopped; else the newest register reading
    minus meterStart (0 before any reading)."""
    if transaction["meter_stop"] is not None:
        return float(transaction["meter_stop"] - transaction["meter_start"])
    if latest is None:
        return 0.0
    reading = register_wh(latest)
    return None if reading is None else max(reading - transaction["meter_start"], 0.0)


def latest_register_wh(samples: Iterable[Sample]) -> int | None:
    """The last whole-meter Energy.Active.Import.Register reading of `samples`, in Wh (rounded
    down); None when they hold none that can be read."""
    found = None
    for sample in samples:
        if sample.measurand == REGISTER and not sample.phase:
            reading = register_wh(sample._asdict())
            if reading is not None:
                found = int(reading)
    return found
