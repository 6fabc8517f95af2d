"""The 2.0.1 adapter covers the 2.0.1 schemas: every action is one the CSMS handles (the
station's) or may send (its own); DataTransfer goes both ways."""

from __future__ import annotations

from typing import Any

from csms import ocpp201
from csms.versions import ADAPTERS
from ocppj import V201


class _Peer:
    charger_id = "CS-1"
    boot_accepted = True

    def after_reply(self, work: Any) -> None: ...

    async def call(self, action: str, payload: Any, timeout: float | None = None) -> Any: ...


def test_every_2_0_1_action_is_handled_or_sent() -> None:
    handled = set(ocpp201.ADAPTER.handlers(None, _Peer()))  # type: ignore[arg-type]
    sent = set(ocpp201.ADAPTER.csms_actions)
    assert handled | sent == V201.actions
    assert handled & sent == {"DataTransfer"}
    assert len(handled) == 25


def test_the_gateway_offers_2_0_1_first() -> None:
    assert list(ADAPTERS) == ["ocpp2.0.1", "ocpp1.6"]
