"""Meter readings as OCPP 1.6 writes them: the sampledValue entries of MeterValues and of a
StopTransaction's transactionData."""

from __future__ import annotations

from typing import Any

from ..meter import Meter

__all__ = ["sampled_values"]


def sampled_values(meter: Meter, measurands: list[str], context: str) -> list[dict[str, Any]]:
    """The sampledValue list for `measurands` now (those the meter does not measure are left
    out): text values, whole numbers for Wh, W and Percent."""
    readings = meter.readings()
    out: list[dict[str, Any]] = []
    for name in measurands:
        if name not in readings:
            continue
        value, unit, location = readings[name]
        entry: dict[str, Any] = {
            "value": str(int(value)) if unit in ("Wh", "W", "Percent") else f"{value:.1f}",
            "context": context,
            "format": "Raw",
            "measurand": name,
            "location": location,
        }
        if unit:
            entry["unit"] = unit
        out.append(entry)
    return out
