"""Display messages (O01-O06): set within the station's formats, priorities and number of
messages, read back in NotifyDisplayMessages pages, cleared; expired ones are gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp.v201 import call

from .conftest import MiniCsms, StartStation

CTRLR = {"name": "DisplayMessageCtrlr"}


def message(number: int, priority: str = "NormalCycle", **more: Any) -> dict[str, Any]:
    content = {"format": more.pop("format", "UTF8"), "content": f"Hello {number}"}
    return {"id": number, "priority": priority, "message": content, **more}


async def set_message(csms: MiniCsms, identity: str, info: dict[str, Any]) -> Any:
    return await csms.call(identity, call.SetDisplayMessage(message=info))


async def test_set_display_message_checks_what_the_station_supports(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-D")
    assert (await set_message(csms, "CS-D", message(1))).status == "Accepted"
    html = await set_message(csms, "CS-D", message(2, format="HTML"))
    assert html.status == "NotSupportedMessageFormat"
    assert "HTML" in html.status_info["additional_info"]
    unknown = await set_message(csms, "CS-D", message(3, transactionId="NOT-RUNNING"))
    assert unknown.status == "UnknownTransaction"
    cp.configure({"DisplayMessageCtrlr.SupportedPriorities": "NormalCycle"})
    front = await set_message(csms, "CS-D", message(4, "AlwaysFront"))
    assert front.status == "NotSupportedPriority"
    for number in range(5, 14):  # 10 at most: 1 and 5..13
        assert (await set_message(csms, "CS-D", message(number))).status == "Accepted"
    full = await set_message(csms, "CS-D", message(14))
    assert full.status == "Rejected"
    replaced = await set_message(
        csms, "CS-D", {**message(5), "message": {"format": "ASCII", "content": "New"}}
    )
    assert replaced.status == "Accepted"  # O06: the same id replaces it
    count = await csms.call(
        "CS-D",
        call.GetVariables(
            get_variable_data=[{"component": CTRLR, "variable": {"name": "DisplayMessages"}}]
        ),
    )
    assert count.get_variable_result[0]["attribute_value"] == "10"
    cp.configure({"DisplayMessageCtrlr.Enabled": False})
    assert (await set_message(csms, "CS-D", message(1))).status == "Rejected"


async def test_display_messages_are_reported_in_pages_and_cleared(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-G")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert (await set_message(csms, "CS-G", message(99, endDateTime=past))).status == "Accepted"
    for number in range(1, 7):
        priority = "InFront" if number == 6 else "NormalCycle"
        assert (await set_message(csms, "CS-G", message(number, priority))).status == "Accepted"
    answer = await csms.call("CS-G", call.GetDisplayMessages(request_id=5))
    assert answer.status == "Accepted"
    await csms.wait_for("NotifyDisplayMessages", lambda p: not p.get("tbc"), timeout=5)
    pages = csms.payloads("NotifyDisplayMessages", "CS-G")
    assert [p.get("tbc", False) for p in pages] == [True, False]
    assert {p["requestId"] for p in pages} == {5}
    ids = sorted(m["id"] for p in pages for m in p["messageInfo"])
    assert ids == [1, 2, 3, 4, 5, 6]  # 99 has expired
    front = await csms.call("CS-G", call.GetDisplayMessages(request_id=6, priority="InFront"))
    assert front.status == "Accepted"
    last = await csms.wait_for("NotifyDisplayMessages", lambda p: p["requestId"] == 6, timeout=5)
    assert [m["id"] for m in last["messageInfo"]] == [6]
    assert (await csms.call("CS-G", call.ClearDisplayMessage(id=6))).status == "Accepted"
    assert (await csms.call("CS-G", call.ClearDisplayMessage(id=6))).status == "Unknown"
    none = await csms.call("CS-G", call.GetDisplayMessages(request_id=7, priority="InFront"))
    assert none.status == "Unknown"
    gone = await csms.call("CS-G", call.GetDisplayMessages(request_id=8, id=[99]))
    assert gone.status == "Unknown"
