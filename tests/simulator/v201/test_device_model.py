"""The 2.0.1 station's device model as a CSMS sees it: GetVariables and SetVariables item by
item, their limits, paged reports, and settings that act when set."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ocpp.exceptions import FormatViolationError, OccurrenceConstraintViolationError
from ocpp.v201 import call

from simulator import EvseSpec
from simulator.v201.device_model import DeviceModel

from ..conftest import MiniCsms
from .conftest import StartStation


def item(component: str, variable: str, **extra: Any) -> dict[str, Any]:
    """A GetVariableData/SetVariableData: `instance=`, `evse=`, `attribute=`, `value=`."""
    comp: dict[str, Any] = {"name": component}
    if "evse" in extra:
        comp["evse"] = extra.pop("evse")
    var: dict[str, Any] = {"name": variable}
    if "instance" in extra:
        var["instance"] = extra.pop("instance")
    data: dict[str, Any] = {"component": comp, "variable": var}
    if "attribute" in extra:
        data["attributeType"] = extra.pop("attribute")
    if "value" in extra:
        data["attributeValue"] = extra.pop("value")
    return data


async def test_get_variables_gives_every_per_item_status(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-GET", evses=None, connectors=2)
    answer = await csms.call(
        "CS-GET",
        call.GetVariables(
            get_variable_data=[
                item("OCPPCommCtrlr", "HeartbeatInterval"),
                item("ocppcommctrlr", "heartbeatinterval"),  # names are case-insensitive
                item("NoSuchCtrlr", "HeartbeatInterval"),
                item("OCPPCommCtrlr", "NoSuchVariable"),
                item("OCPPCommCtrlr", "HeartbeatInterval", attribute="MaxSet"),
                item("SecurityCtrlr", "BasicAuthPassword"),  # write-only
                item("OCPPCommCtrlr", "MessageAttempts", instance="TransactionEvent"),
                item("EVSE", "Power", evse={"id": 2}, attribute="MaxSet"),
                item("EVSE", "Power", evse={"id": 3}),  # no such EVSE
                item("Connector", "AvailabilityState", evse={"id": 1, "connectorId": 1}),
            ]
        ),
    )
    results = answer.get_variable_result
    statuses = [r["attribute_status"] for r in results]
    assert statuses == [
        "Accepted",
        "Accepted",
        "UnknownComponent",
        "UnknownVariable",
        "NotSupportedAttributeType",
        "Rejected",
        "Accepted",
        "Accepted",
        "UnknownComponent",
        "Accepted",
    ]
    assert results[0]["attribute_value"] == "60"  # as configured
    assert results[6]["attribute_value"] == "3"
    assert results[7]["attribute_value"] == "22000"
    assert results[9]["attribute_value"] == "Available"
    assert "attribute_value" not in results[5]


async def test_set_variables_checks_each_item_and_acts(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-SET")
    answer = await csms.call(
        "CS-SET",
        call.SetVariables(
            set_variable_data=[
                item("SampledDataCtrlr", "TxUpdatedInterval", value="15"),
                item("SampledDataCtrlr", "TxUpdatedInterval", value="soon"),
                item("TxCtrlr", "TxStartPoint", value="EVConnected,Authorized"),
                item("TxCtrlr", "TxStartPoint", value="Sunrise"),
                item("ChargingStation", "Model", value="Other"),  # read-only
                item("NoSuchCtrlr", "X", value="1"),
                item("TxCtrlr", "NoSuch", value="1"),
                item("TxCtrlr", "EVConnectionTimeOut", value="5", attribute="Target"),
                item("OCPPCommCtrlr", "NetworkConfigurationPriority", value="1,0"),
                item("AuthCtrlr", "LocalPreAuthorize", value="TRUE"),
            ]
        ),
    )
    statuses = [r["attribute_status"] for r in answer.set_variable_result]
    assert statuses == [
        "Accepted",
        "Rejected",
        "Accepted",
        "Rejected",
        "Rejected",
        "UnknownComponent",
        "UnknownVariable",
        "NotSupportedAttributeType",
        "RebootRequired",
        "Accepted",
    ]
    assert answer.set_variable_result[1]["attribute_status_info"]["reason_code"] == "InvalidValue"
    assert cp.config.get("SampledDataCtrlr.TxUpdatedInterval") == "15"
    assert cp.config.get("MeterValueSampleInterval") == "15"  # the 1.6 name of it
    assert cp.config.get("TxStartPoint") == "EVConnected,Authorized"
    assert cp.config.get("LocalPreAuthorize") == "true"


async def test_items_and_bytes_per_message_are_limits(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-LIM")
    cp.configure(
        {
            "DeviceDataCtrlr.ItemsPerMessage[GetVariables]": 2,
            "DeviceDataCtrlr.BytesPerMessage[SetVariables]": 120,
        }
    )
    many = [item("OCPPCommCtrlr", "HeartbeatInterval")] * 3
    with pytest.raises(OccurrenceConstraintViolationError):
        await csms.call("CS-LIM", call.GetVariables(get_variable_data=many))
    answer = await csms.call("CS-LIM", call.GetVariables(get_variable_data=many[:2]))
    assert len(answer.get_variable_result) == 2
    long = [item("SecurityCtrlr", "OrganizationName", value="x" * 100)]
    with pytest.raises(FormatViolationError):
        await csms.call("CS-LIM", call.SetVariables(set_variable_data=long))


async def test_full_inventory_comes_in_pages(csms: MiniCsms, start_station: StartStation) -> None:
    cp = await start_station("CS-REP", evses=[EvseSpec(2), EvseSpec(2)])
    cp.configure(
        {
            "DeviceDataCtrlr.ItemsPerMessage[GetReport]": 25,
            "DeviceDataCtrlr.BytesPerMessage[GetReport]": 65536,
        }
    )
    answer = await csms.call(
        "CS-REP", call.GetBaseReport(request_id=7, report_base="FullInventory")
    )
    assert answer.status == "Accepted"
    model = cp.config
    assert isinstance(model, DeviceModel)
    total = len(model.variables)
    pages_expected = -(-total // 25)
    last = await csms.wait_for("NotifyReport", lambda p: not p.get("tbc"), timeout=5)
    pages = csms.payloads("NotifyReport", "CS-REP")
    assert last is pages[-1]
    assert [p["seqNo"] for p in pages] == list(range(pages_expected))
    assert [p.get("tbc", False) for p in pages] == [True] * (pages_expected - 1) + [False]
    assert {p["requestId"] for p in pages} == {7}
    assert all(len(p["reportData"]) <= 25 for p in pages)
    data = [d for p in pages for d in p["reportData"]]
    assert len(data) == total
    password = next(d for d in data if d["variable"]["name"] == "BasicAuthPassword")
    assert "value" not in password["variableAttribute"][0]  # write-only: never reported
    power = next(
        d for d in data if d["variable"]["name"] == "Power" and d["component"]["evse"]["id"] == 2
    )
    assert [a["type"] for a in power["variableAttribute"]] == ["Actual", "Target", "MaxSet"]
    assert power["variableCharacteristics"]["unit"] == "W"
    start = next(d for d in data if d["variable"]["name"] == "TxStartPoint")
    assert start["variableCharacteristics"]["dataType"] == "MemberList"
    assert "PowerPathClosed" in start["variableCharacteristics"]["valuesList"]
    connectors = {
        (d["component"]["evse"]["id"], d["component"]["evse"]["connectorId"])
        for d in data
        if d["component"]["name"] == "Connector"
    }
    assert connectors == {(1, 1), (1, 2), (2, 1), (2, 2)}


async def test_report_pages_keep_within_bytes_per_message(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-BYTES")
    cp.configure(
        {
            "DeviceDataCtrlr.ItemsPerMessage[GetReport]": 1000,
            "DeviceDataCtrlr.BytesPerMessage[GetReport]": 2000,
        }
    )
    await csms.call("CS-BYTES", call.GetBaseReport(request_id=9, report_base="FullInventory"))
    await csms.wait_for("NotifyReport", lambda p: not p.get("tbc"), timeout=5)
    pages = csms.payloads("NotifyReport", "CS-BYTES")
    sizes = [len(json.dumps(p, separators=(",", ":"))) for p in pages]
    assert len(pages) > 5 and max(sizes) <= 2000
    assert [p["seqNo"] for p in pages] == list(range(len(pages)))


async def test_configuration_and_summary_inventories(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-INV")
    cp.configure({"DeviceDataCtrlr.ItemsPerMessage[GetReport]": 500})
    await csms.call(
        "CS-INV", call.GetBaseReport(request_id=1, report_base="ConfigurationInventory")
    )
    config = await csms.wait_for("NotifyReport", lambda p: p["requestId"] == 1)
    assert all(d["variableAttribute"][0]["mutability"] != "ReadOnly" for d in config["reportData"])
    await csms.call("CS-INV", call.GetBaseReport(request_id=2, report_base="SummaryInventory"))
    summary = await csms.wait_for("NotifyReport", lambda p: p["requestId"] == 2)
    names = {(d["component"]["name"], d["variable"]["name"]) for d in summary["reportData"]}
    assert ("EVSE", "AvailabilityState") in names and ("ChargingStation", "Problem") in names


async def test_get_report_by_component_and_criteria(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-GR")
    cp.configure({"DeviceDataCtrlr.ItemsPerMessage[GetReport]": 500})
    answer = await csms.call(
        "CS-GR",
        call.GetReport(
            request_id=3,
            component_variable=[
                {"component": {"name": "TxCtrlr"}},
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            ],
        ),
    )
    assert answer.status == "Accepted"
    report = await csms.wait_for("NotifyReport", lambda p: p["requestId"] == 3)
    names = {(d["component"]["name"], d["variable"]["name"]) for d in report["reportData"]}
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in names
    assert {c for c, _ in names} == {"TxCtrlr", "OCPPCommCtrlr"} and len(names) == 8
    cp.configure({"AuthCacheCtrlr.Enabled": "false"})
    enabled = await csms.call("CS-GR", call.GetReport(request_id=4, component_criteria=["Enabled"]))
    assert enabled.status == "Accepted"
    report = await csms.wait_for("NotifyReport", lambda p: p["requestId"] == 4)
    components = {d["component"]["name"] for d in report["reportData"]}
    assert "AuthCtrlr" in components and "AuthCacheCtrlr" not in components
    nothing = await csms.call(
        "CS-GR", call.GetReport(request_id=5, component_variable=[{"component": {"name": "X"}}])
    )
    assert nothing.status == "EmptyResultSet"


async def test_heartbeat_interval_set_takes_effect(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-HB", time_scale=0.01)  # 60 s heartbeats last 0.6 s
    answer = await csms.call(
        "CS-HB",
        call.SetVariables(
            set_variable_data=[item("OCPPCommCtrlr", "HeartbeatInterval", value="5")]
        ),
    )
    assert answer.set_variable_result[0]["attribute_status"] == "Accepted"
    start = len(csms.received)
    await csms.wait_for("Heartbeat", start=start, timeout=2)
    await csms.wait_for("Heartbeat", start=len(csms.received), timeout=0.5)  # 5 s: 0.05 s


async def test_basic_auth_password_is_used_from_the_next_connection(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-PW", password="first-password-0001")
    new = "second-password-0002"
    answer = await csms.call(
        "CS-PW",
        call.SetVariables(
            set_variable_data=[item("SecurityCtrlr", "BasicAuthPassword", value=new)]
        ),
    )
    assert answer.set_variable_result[0]["attribute_status"] == "Accepted"
    csms.passwords["CS-PW"] = new  # the CSMS now expects the new one
    await cp.reboot()
    assert cp.password == new and csms.connections.count("CS-PW") == 2
    short = await csms.call(
        "CS-PW",
        call.SetVariables(
            set_variable_data=[item("SecurityCtrlr", "BasicAuthPassword", value="x")]
        ),
    )
    assert short.set_variable_result[0]["attribute_status"] == "Rejected"
