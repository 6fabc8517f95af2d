"""The 2.0.1 station's customer information (N09, N10): what it reports of a customer (cache,
local list, transactions), in NotifyCustomerInformation pages with the request's id; what a
clear removes, and only then; the answers Rejected and Invalid."""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call

from simulator import ChargePoint, Outcome

from ..conftest import MiniCsms
from .conftest import StartStation

TAG = {"id_token": "CUST-1", "type": "ISO14443"}


async def ask(csms: MiniCsms, cp_id: str, request_id: int, **fields: Any) -> str:
    fields.setdefault("report", True)
    fields.setdefault("clear", False)
    answer = await csms.call(cp_id, call.CustomerInformation(request_id=request_id, **fields))
    return str(answer.status)


async def report(csms: MiniCsms, request_id: int) -> list[dict[str, Any]]:
    """The pages of request `request_id`, once its last came."""
    await csms.wait_for(
        "NotifyCustomerInformation", lambda p: p["requestId"] == request_id and not p["tbc"]
    )
    return [p for p in csms.payloads("NotifyCustomerInformation") if p["requestId"] == request_id]


def text(pages: list[dict[str, Any]]) -> str:
    return "\n".join(p["data"] for p in pages)


async def charge_once(cp: ChargePoint, tag: str = "CUST-1") -> None:
    await cp.plug_in(1)
    await cp.present_tag(1, tag)
    assert cp.transaction(1) is not None
    await cp.present_tag(1, tag)  # the same token ends it
    await cp.unplug(1)
    assert cp.transaction(1) is None


async def known_customer(csms: MiniCsms, cp: ChargePoint, cp_id: str) -> None:
    """CUST-1 in the local list, the cache and one transaction; OTHER in the cache."""
    await charge_once(cp)  # the CSMS's answer cached
    listed = call.SendLocalList(
        version_number=1,
        update_type="Full",
        local_authorization_list=[
            {"id_token": {"idToken": "CUST-1", "type": "ISO14443"},
             "id_token_info": {"status": "Accepted"}},
        ],
    )  # fmt: skip
    assert (await csms.call(cp_id, listed)).status == "Accepted"
    cp.cache_tag("CUST-1", "Accepted")  # the list took it from the cache: cached anew
    cp.cache_tag("OTHER", "Accepted")


def cache(cp: ChargePoint) -> set[str]:
    return {value for value, _ in cp.behaviour.state.auth.cache}  # type: ignore[attr-defined]


def local_list(cp: ChargePoint) -> set[str]:
    return {value for value, _ in cp.behaviour.state.auth.local_list}  # type: ignore[attr-defined]


async def test_a_report_tells_what_the_station_keeps_of_the_customer(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-K1")
    await known_customer(csms, cp, "CS-K1")
    assert await ask(csms, "CS-K1", 3, id_token=TAG) == "Accepted"
    (page,) = await report(csms, 3)
    assert page["seqNo"] == 0 and page["tbc"] is False and page["generatedAt"]
    data = page["data"]
    assert "local authorization list: ISO14443 CUST-1, Accepted" in data
    assert "authorization cache: ISO14443 CUST-1, Accepted until" in data
    tx_id = csms.payloads("TransactionEvent", "CS-K1")[0]["transactionInfo"]["transactionId"]
    assert f"transaction {tx_id} on EVSE 1: ISO14443 CUST-1" in data and "ended" in data
    assert "OTHER" not in data
    # a report clears nothing
    assert await ask(csms, "CS-K1", 4, id_token=TAG) == "Accepted"
    assert text(await report(csms, 4)) == data
    assert "CUST-1" in cache(cp)


async def test_a_customer_it_does_not_know_gets_a_no_data_report(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-K2")
    assert await ask(csms, "CS-K2", 1, id_token={"id_token": "NOBODY", "type": "Central"}) == (
        "Accepted"
    )
    certificate = {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": "aa",
        "issuer_key_hash": "bb",
        "serial_number": "01",
    }
    assert await ask(csms, "CS-K2", 2, customer_certificate=certificate) == "Accepted"
    for request_id in (1, 2):
        pages = await report(csms, request_id)
        assert [(p["seqNo"], p["tbc"], p["data"]) for p in pages] == [
            (0, False, "No data available")
        ]


async def test_clear_and_report_reports_then_forgets_but_keeps_the_local_list(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-K3")
    await known_customer(csms, cp, "CS-K3")
    assert await ask(csms, "CS-K3", 5, id_token=TAG, clear=True) == "Accepted"
    data = text(await report(csms, 5))
    assert "authorization cache: ISO14443 CUST-1" in data and "transaction " in data
    assert cache(cp) == {"OTHER"} and local_list(cp) == {"CUST-1"}
    assert await ask(csms, "CS-K3", 6, id_token=TAG) == "Accepted"
    assert text(await report(csms, 6)) == "local authorization list: ISO14443 CUST-1, Accepted"


async def test_clear_without_report_is_told_in_one_notification(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-K4")
    await charge_once(cp)
    assert "CUST-1" in cache(cp)
    assert await ask(csms, "CS-K4", 7, id_token=TAG, report=False, clear=True) == "Accepted"
    (page,) = await report(csms, 7)
    assert page["data"] == "Cleared 2 item(s) of customer data"  # the cache entry, the tx
    assert cache(cp) == set()
    await ask(csms, "CS-K4", 8, id_token=TAG, report=False, clear=True)
    assert [p["data"] for p in await report(csms, 8)] == ["No data available"]


async def test_a_customer_identifier_names_the_customer_by_token_value(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-K5")
    cp.cache_tag("KeyCode:CUST-9", "Accepted")
    cp.cache_tag("ISO14443:CUST-9", "Blocked")
    assert await ask(csms, "CS-K5", 1, customer_identifier="CUST-9", clear=True) == "Accepted"
    data = text(await report(csms, 1))
    assert "KeyCode CUST-9, Accepted" in data and "ISO14443 CUST-9, Blocked" in data
    assert cache(cp) == set()


async def test_a_long_report_comes_in_pages(csms: MiniCsms, start_station: StartStation) -> None:
    cp = await start_station("CS-K6")
    for _ in range(8):
        await charge_once(cp)
    assert await ask(csms, "CS-K6", 2, id_token=TAG) == "Accepted"
    pages = await report(csms, 2)
    assert len(pages) > 1
    assert [p["seqNo"] for p in pages] == list(range(len(pages)))
    assert [p["tbc"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert all(len(p["data"]) <= 512 for p in pages)
    ids = {p["transactionInfo"]["transactionId"] for p in csms.payloads("TransactionEvent")}
    assert len(ids) == 8 and all(tx_id in text(pages) for tx_id in ids)


async def test_requests_it_refuses(csms: MiniCsms, start_station: StartStation) -> None:
    cp = await start_station("CS-K7")
    cp.cache_tag("CUST-1", "Accepted")
    # neither report nor clear: Rejected (N09.FR.07); no customer, or two: Invalid
    assert await ask(csms, "CS-K7", 1, id_token=TAG, report=False) == "Rejected"
    assert await ask(csms, "CS-K7", 2) == "Invalid"
    assert await ask(csms, "CS-K7", 3, id_token=TAG, customer_identifier="X") == "Invalid"
    cp.set_outcome("CustomerInformation", Outcome.reject(times=1))
    assert await ask(csms, "CS-K7", 4, id_token=TAG, clear=True) == "Rejected"
    assert "CUST-1" in cache(cp)  # nothing cleared by a refused request
    await ask(csms, "CS-K7", 5, id_token=TAG)
    await report(csms, 5)
    assert {p["requestId"] for p in csms.payloads("NotifyCustomerInformation")} == {5}
