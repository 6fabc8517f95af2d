"""The OCPP 1.6J charge point: the layers put together."""

from __future__ import annotations

from typing import Any

from ._security import SecurityOperations


class ChargePoint16(SecurityOperations):
    """A simulated OCPP 1.6J charge point.

    Layers, each in its own module, each a base of the next:
    `_endpoint` (state, raw RPC, dispatch of CSMS calls, outcomes),
    `_delivery` (the offline queue of transaction messages),
    `_core` (connection loop with back-off, boot, heartbeat, network loss, reboot),
    `_transactions` (status reporting, authorization, transactions, meter values),
    `_driver` (what a person at the charger does),
    `_operations`, `_features`, `_security` (answers to the CSMS-initiated operations).
    """

    async def _after_boot(self, booted: bool) -> None:
        await super()._after_boot(booted)
        self._start_aligned()

    def _config_changed(self, name: str, value: str) -> None:
        super()._config_changed(name, value)
        if name == "ClockAlignedDataInterval" and self.ready.is_set():
            self._start_aligned()

    def _start_aligned(self) -> None:
        running = getattr(self, "_timers", {}).get("aligned")
        if self.config.get_int("ClockAlignedDataInterval") > 0 and (
            running is None or running.done()
        ):
            self._timer("aligned", self._aligned_loop())

    def configure(self, values: dict[str, Any]) -> None:
        """Set configuration keys locally (readonly ones too), as at installation."""
        for name, value in values.items():
            self.config.set(name, value)

    def __repr__(self) -> str:
        state = "ready" if self.ready.is_set() else "connected" if self.connected else ("offline")
        return f"<ChargePoint16 {self.identity} {state}>"
