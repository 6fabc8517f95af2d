"""The 2.0.1 station's network connection profiles (B09, B10): SetNetworkProfile kept or
refused, the connection by NetworkConfigurationPriority after a reboot and the fall-back to
the next slot; and a boot a TriggerMessage asks for while the boot is Pending (F06)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from ocpp.v201 import call

from simulator import NotConnected

from ..conftest import MiniCsms
from .conftest import StartStation, start_csms201


def profile(url: str, security: int = 0, version: str = "OCPP20") -> dict[str, Any]:
    return {
        "ocppVersion": version,
        "ocppTransport": "JSON",
        "ocppCsmsUrl": url,
        "messageTimeout": 30,
        "securityProfile": security,
        "ocppInterface": "Wired0",
    }


async def variable(csms: MiniCsms, cp_id: str, component: str, name: str) -> str:
    answer = await csms.call(
        cp_id,
        call.GetVariables(
            get_variable_data=[{"component": {"name": component}, "variable": {"name": name}}]
        ),
    )
    value: str = answer.get_variable_result[0]["attribute_value"]
    return value


async def set_network_profile(csms: MiniCsms, cp_id: str, slot: int, data: Any) -> str:
    answer = await csms.call(
        cp_id, call.SetNetworkProfile(configuration_slot=slot, connection_data=data)
    )
    status: str = answer.status
    return status


async def set_priority(csms: MiniCsms, cp_id: str, slots: str) -> str:
    answer = await csms.call(
        cp_id,
        call.SetVariables(
            set_variable_data=[
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "NetworkConfigurationPriority"},
                    "attributeValue": slots,
                }
            ]
        ),
    )
    status: str = answer.set_variable_result[0]["attribute_status"]
    return status


def closed_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_set_network_profile_keeps_what_it_can_use(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-N1")
    url = "ws://127.0.0.1:1/ocpp"
    refused = [
        (9, profile(url)),  # no such slot
        (0, profile(url)),  # the slot in use
        (1, profile(url, version="OCPP16")),
        (1, profile("wss://127.0.0.1:1/ocpp", security=1)),  # profile 1 is plain ws://
        (1, profile("wss://127.0.0.1:1/ocpp", security=2)),  # no TLS trust for profile 2
    ]
    for slot, data in refused:
        assert await set_network_profile(csms, "CS-N1", slot, data) == "Rejected", data
    assert await set_network_profile(csms, "CS-N1", 1, profile(url)) == "Accepted"
    assert await set_network_profile(csms, "CS-N1", 3, profile(url, security=1)) == "Accepted"
    assert await variable(csms, "CS-N1", "OCPPCommCtrlr", "ActiveNetworkProfile") == "0"


async def test_no_profile_below_the_security_profile_in_use(
    csms: MiniCsms, start_station: StartStation
) -> None:
    csms.passwords["CS-N2"] = "network-profile-password-2"
    await start_station("CS-N2", password="network-profile-password-2")
    url = "ws://127.0.0.1:1/ocpp"
    assert await variable(csms, "CS-N2", "SecurityCtrlr", "SecurityProfile") == "1"
    assert await set_network_profile(csms, "CS-N2", 1, profile(url, security=0)) == "Rejected"
    assert await set_network_profile(csms, "CS-N2", 1, profile(url, security=1)) == "Accepted"


async def test_after_a_reset_it_connects_by_the_priority(
    csms: MiniCsms, start_station: StartStation
) -> None:
    other = MiniCsms()
    server = await start_csms201(other)
    try:
        cp = await start_station("CS-N3")
        assert await set_network_profile(csms, "CS-N3", 2, profile(other.url)) == "Accepted"
        # kept, not used until a reboot
        assert await set_priority(csms, "CS-N3", "2,0") == "RebootRequired"
        assert (await csms.call("CS-N3", call.Reset(type="Immediate"))).status == "Accepted"
        await other.wait_connected("CS-N3")
        await cp.wait_ready(5)
        boot = await other.wait_for("BootNotification")
        assert boot["reason"] == "RemoteReset"
        assert await variable(other, "CS-N3", "OCPPCommCtrlr", "ActiveNetworkProfile") == "2"
        assert csms.connections.count("CS-N3") == 1
    finally:
        server.close()
        await server.wait_closed()


async def test_a_slot_that_never_connects_gives_way_to_the_next(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station(
        "CS-N4", configuration={"OCPPCommCtrlr.NetworkProfileConnectionAttempts": "2"}
    )
    dead = f"ws://127.0.0.1:{closed_port()}/ocpp"
    assert await set_network_profile(csms, "CS-N4", 1, profile(dead)) == "Accepted"
    assert await set_priority(csms, "CS-N4", "1,0") == "RebootRequired"
    failed_before = len(cp.connect_errors)
    assert (await csms.call("CS-N4", call.Reset(type="Immediate"))).status == "Accepted"
    await csms.wait_connected("CS-N4", 2)
    await cp.wait_ready(5)
    assert len(cp.connect_errors) - failed_before == 2  # NetworkProfileConnectionAttempts
    assert await variable(csms, "CS-N4", "OCPPCommCtrlr", "ActiveNetworkProfile") == "0"


async def test_a_triggered_boot_while_pending_is_the_only_boot(
    csms: MiniCsms, start_station: StartStation
) -> None:
    csms.boot_status = ["Pending", "Accepted"]
    csms.boot_interval = 30  # no boot of its own before the trigger
    cp = await start_station("CS-N5", boot=False)
    with pytest.raises(NotConnected):  # started, and Pending
        await cp.start(timeout=0.3)
    assert cp.registration == "Pending"
    answer = await csms.call("CS-N5", call.TriggerMessage(requested_message="BootNotification"))
    assert answer.status == "Accepted"
    await cp.wait_ready(5)
    await asyncio.sleep(0.3)  # time enough for an extra boot, were there one
    reasons = [p["reason"] for p in csms.payloads("BootNotification", "CS-N5")]
    assert reasons == ["PowerUp", "Triggered"]
