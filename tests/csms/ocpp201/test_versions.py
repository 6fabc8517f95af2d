"""1.6 and 2.0.1 on one port and URL: the newest subprotocol a station offers wins, and
chargers of both versions are served side by side."""

from __future__ import annotations

import pytest

from csms import CsmsApp
from tests.csms.client import RawClient

from .station import NOW, event, token


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1"),
        (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
        (["ocpp2.1", "ocpp1.6"], "ocpp1.6"),
        (["ocpp2.0.1"], "ocpp2.0.1"),
    ],
)
async def test_the_newest_subprotocol_offered_is_chosen(
    csms_app: CsmsApp, offered: list[str], chosen: str
) -> None:
    await csms_app.services.chargers.register("CS-1")
    async with await RawClient.open(f"{csms_app.ocpp_url}/CS-1", subprotocols=offered) as client:
        assert client.ws.subprotocol == chosen
        connection = csms_app.registry.get("CS-1")
        assert connection is not None and connection.adapter.dialect.subprotocol == chosen


async def test_a_1_6_and_a_2_0_1_charger_at_once(csms_app: CsmsApp) -> None:
    chargers = csms_app.services.chargers
    await chargers.register("CP-16")
    await chargers.register("CS-201")
    await csms_app.services.tags.upsert("CARD")
    url = csms_app.ocpp_url
    async with (
        await RawClient.open(f"{url}/CP-16", subprotocols=["ocpp1.6"]) as old,
        await RawClient.open(f"{url}/CS-201", subprotocols=["ocpp2.0.1"]) as new,
    ):
        assert (await old.boot())["status"] == "Accepted"
        boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
        assert (await new.result("BootNotification", boot))["status"] == "Accepted"
        start = {"connectorId": 1, "idTag": "CARD", "meterStart": 0, "timestamp": NOW}
        one = await old.result("StartTransaction", start)
        two = await new.result(
            "TransactionEvent", event("Started", 0, "A-1", idToken=token("CARD2", "Local"))
        )
        assert one["idTagInfo"]["status"] == "Accepted"
        assert two["idTokenInfo"]["status"] == "Invalid"
        # each speaks its own version: a 2.0.1 action from the 1.6 charger is unknown to it
        assert (await old.call("TransactionEvent", {}))[2] == "NotImplemented"
        assert (await new.call("StartTransaction", start))[2] == "NotImplemented"
    rows = await csms_app.services.transactions.find()
    assert {(r["charger_id"], r["station_transaction_id"]) for r in rows} == {
        ("CP-16", None),
        ("CS-201", "A-1"),
    }
    assert {r["id"] for r in rows} == {one["transactionId"], one["transactionId"] + 1}
