"""The link: offline queue, reconnect back-off with jitter, boot retries, security profiles."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest
import trustme
from ocpp.v16 import call

from simulator import (
    Backoff,
    Endpoints,
    NotConnected,
    Outcome,
    Status,
    Target,
    create_charge_point,
    tls_context,
)
from simulator.fleet import Fleet, FleetOptions

from .conftest import MiniCsms, StartCp, fast_spec, start_csms


async def eventually(check: object, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        await asyncio.sleep(0.01)


async def test_offline_queue_delivered_in_order(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-OFF")
    await cp.plug_in(1)
    await cp.present_tag(1, "T")  # cached as Accepted
    first = cp.transaction(1)
    assert first is not None
    await first.started.wait()
    await cp.go_offline()
    assert not cp.online
    await cp.present_tag(1, "T")  # stop, offline
    await cp.unplug(1)
    await cp.plug_in(1)
    await cp.present_tag(1, "T")  # authorized from the cache, StartTransaction queued
    second = cp.transaction(1)
    assert second is not None and second.transaction_id is None
    await cp.stop_charging(1)
    assert cp.queued == ["StopTransaction", "StartTransaction", "StopTransaction"]
    mark = len(csms.received)
    await cp.go_online(timeout=5)
    await eventually(lambda: not cp.queued)
    tx_messages = [
        (r.action, r.payload.get("transactionId"))
        for r in csms.received[mark:]
        if r.action in ("StartTransaction", "StopTransaction")
    ]
    assert tx_messages == [
        ("StopTransaction", first.transaction_id),
        ("StartTransaction", None),
        ("StopTransaction", second.transaction_id),
    ]
    assert second.transaction_id is not None
    assert len(csms.payloads("BootNotification")) == 1  # a reconnect is not a reboot


async def test_transaction_message_retried(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-RETRY", configuration={"TransactionMessageAttempts": "3"})
    csms.fail["StopTransaction"] = 2
    await cp.plug_in(1)
    await cp.present_tag(1, "T")
    await cp.stop_charging(1)
    assert len(csms.payloads("StopTransaction")) == 3  # two CALLERRORs, then delivered
    assert cp.queued == []


class HalfRandom:
    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_backoff_with_jitter_between_attempts() -> None:
    port = free_port()
    backoff = Backoff(initial=0.05, factor=2, maximum=0.2, jitter=0.04, rng=HalfRandom())
    spec = fast_spec("CP-BACK", backoff=backoff)
    cp = create_charge_point(spec, f"ws://127.0.0.1:{port}/ocpp")
    runner = asyncio.create_task(cp.run())
    try:
        await eventually(lambda: len(cp.connect_attempts) >= 5)
        assert cp.reconnect_delays[:4] == pytest.approx([0.07, 0.12, 0.22, 0.22])
        gaps = [b - a for a, b in zip(cp.connect_attempts, cp.connect_attempts[1:], strict=False)]
        for gap, delay in zip(gaps, cp.reconnect_delays, strict=False):
            assert gap >= delay * 0.95
        assert all("ConnectionRefused" in e or "OSError" in e for e in cp.connect_errors)
        # the CSMS comes up on that port: the charge point gets in
        mini = MiniCsms()
        server = await start_csms(mini, port=port)
        try:
            await cp.wait_ready(5)
            assert mini.payloads("BootNotification")
        finally:
            server.close()
            await server.wait_closed()
    finally:
        await cp.close()
        await runner


def test_jitter_spreads_delays() -> None:
    import random

    backoff = Backoff(initial=1, factor=2, maximum=8, jitter=1, rng=random.Random(5))
    delays = [backoff.delay(n) for n in range(6)]
    bases = [1, 2, 4, 8, 8, 8]
    assert all(b <= d <= b + 1 for b, d in zip(bases, delays, strict=True))
    assert len({round(d - b, 6) for b, d in zip(bases, delays, strict=True)}) == 6


async def test_boot_pending_then_accepted(csms: MiniCsms, start_cp: StartCp) -> None:
    csms.boot_status = ["Rejected", "Pending", "Accepted"]
    csms.boot_interval = 0  # the charge point then uses its own retry (0.1 s in tests)
    cp = await start_cp("CP-PEND")
    assert cp.registration == "Accepted"
    actions = [r.action for r in csms.received]
    assert actions[:3] == ["BootNotification"] * 3  # nothing else while Rejected/Pending


async def test_basic_auth_and_authorization_key(csms: MiniCsms, start_cp: StartCp) -> None:
    csms.passwords["CP-AUTH"] = "0123456789abcdef"
    wrong = await start_cp("CP-AUTH", password="wrong-password-xx", boot=False)
    runner = asyncio.create_task(wrong.run())
    await eventually(lambda: wrong.connect_errors)
    assert "401" in wrong.connect_errors[0]
    await wrong.close()
    await runner
    cp = await start_cp("CP-AUTH", password="0123456789abcdef")
    assert cp.online
    changed = await csms.call(
        "CP-AUTH", call.ChangeConfiguration(key="AuthorizationKey", value="fedcba9876543210")
    )
    assert changed.status == "Accepted"
    csms.passwords["CP-AUTH"] = "fedcba9876543210"
    await cp.go_offline()
    await cp.go_online(5)  # the new password is used on the next connection
    assert csms.connections.count("CP-AUTH") == 2


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, mutual: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    if mutual:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


@pytest.mark.parametrize("mutual", [False, True], ids=["tls-basic-auth", "mutual-tls"])
async def test_tls_security_profiles(ca: trustme.CA, tmp_path: Path, mutual: bool) -> None:
    mini = MiniCsms()
    identity = "CP-TLS3" if mutual else "CP-TLS2"
    if not mutual:
        mini.passwords[identity] = "0123456789abcdef"
    server = await start_csms(mini, server_context(ca, mutual))
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    if mutual:
        client = ca.issue_cert(identity)
        cert_file = tmp_path / "client.pem"
        client.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
        context = tls_context(ca_file, cert_file)
        spec = fast_spec(identity, security_profile=3)
    else:
        context = tls_context(ca_file)
        spec = fast_spec(identity, password="0123456789abcdef")
    cp = create_charge_point(spec, mini.url, ssl_context=context)
    try:
        await cp.start(5)
        assert cp.security().profile == (3 if mutual else 2)
        assert mini.payloads("BootNotification")
        if mutual:
            # the CSMS saw the client certificate issued for this charge point
            assert ("DNS", identity.lower()) in mini.client_certs[0]["subjectAltName"]
            assert mini.auth_headers == [None]
        else:
            assert mini.auth_headers[0] is not None and mini.auth_headers[0].startswith("Basic ")
    finally:
        await cp.close()
        server.close()
        await server.wait_closed()


async def test_untrusted_server_certificate_is_refused(ca: trustme.CA) -> None:
    mini = MiniCsms()
    server = await start_csms(mini, server_context(ca, False))
    cp = create_charge_point(fast_spec("CP-NOTRUST"), mini.url, ssl_context=tls_context())
    runner = asyncio.create_task(cp.run())
    try:
        await eventually(lambda: cp.connect_errors)
        assert "CERTIFICATE_VERIFY_FAILED" in cp.connect_errors[0]
        assert not mini.connections
    finally:
        await cp.close()
        await runner
        server.close()
        await server.wait_closed()


async def test_offline_meter_values_keep_their_place(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp(
        "CP-OFFMV", configuration={"MeterValueSampleInterval": "1"}, time_scale=0.05
    )
    await cp.go_offline()
    await cp.plug_in(1)
    cp.behaviour.auth.remember("T", {"status": "Accepted"})
    await cp.present_tag(1, "T")  # offline, from the cache
    await eventually(lambda: cp.queued.count("MeterValues") >= 2)
    await cp.stop_charging(1)
    queued = cp.queued
    assert queued[0] == "StartTransaction" and queued[-1] == "StopTransaction"
    mark = len(csms.received)
    await cp.go_online(5)
    await eventually(lambda: not cp.queued)
    delivered = [r for r in csms.received[mark:] if r.action in set(queued)]
    assert [r.action for r in delivered] == queued
    tx_id = delivered[-1].payload["transactionId"]
    assert all(r.payload["transactionId"] == tx_id for r in delivered[1:])
    registers = [
        float(v["value"])
        for r in delivered[1:-1]
        for v in r.payload["meterValue"][0]["sampledValue"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]
    assert registers == sorted(registers)


async def test_reconnects_without_reboot_when_the_csms_drops_it(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    cp = await start_cp("CP-DROP")
    await cp.plug_in(1)
    await csms.peers["CP-DROP"]._connection.close()  # the CSMS goes away, then is back
    await csms.wait_connected("CP-DROP", count=2)
    await cp.wait_ready(5)
    assert len(csms.payloads("BootNotification")) == 1  # a reconnect, not a reboot
    assert cp.reconnect_delays  # it waited a back-off delay first
    assert cp.status(1) == Status.PREPARING


async def test_remote_start_failing_at_authorize(csms: MiniCsms, start_cp: StartCp) -> None:
    cp = await start_cp("CP-FAILAT")
    cp.set_outcome("RemoteStartTransaction", Outcome.fail("Authorize", times=1))
    answer = await csms.call("CP-FAILAT", call.RemoteStartTransaction(id_tag="T"))
    assert answer.status == "Accepted"  # accepted, then nothing follows
    await cp.expect_call("RemoteStartTransaction", timeout=1)
    await cp.plug_in(1)
    again = await csms.call("CP-FAILAT", call.RemoteStartTransaction(id_tag="T2"))
    assert again.status == "Accepted"
    await csms.wait_for("StartTransaction")
    assert [p["idTag"] for p in csms.payloads("Authorize")] == ["T2"]  # the first did nothing
    assert [p["idTag"] for p in csms.payloads("StartTransaction")] == ["T2"]


async def test_raising_the_security_profile_reconnects_with_it(ca: trustme.CA) -> None:
    """Whitepaper A05: an accepted SecurityProfile 2 drops the ws:// link and connects over
    TLS at once (no reboot); equal, lower or unreachable profiles are Rejected."""
    mini = MiniCsms()
    plain = await start_csms(mini)
    ws_url = mini.url
    tls = await start_csms(mini, server_context(ca, mutual=False))
    trust = tls_context(ca_data=ca.cert_pem.bytes().decode())
    targets = {1: Target(ws_url), 2: Target(mini.url, trust)}
    spec = fast_spec("CP-UP", password="0123456789abcdef")
    cp = create_charge_point(spec, ws_url, profile_targets=targets.get)
    try:
        await cp.start(5)
        for value in ("1", "0", "3", "x"):  # not higher, or nowhere to connect with it
            answer = await mini.call("CP-UP", call.ChangeConfiguration("SecurityProfile", value))
            assert answer.status == "Rejected", value
        answer = await mini.call("CP-UP", call.ChangeConfiguration("SecurityProfile", "2"))
        assert answer.status == "Accepted"
        await cp.wait_profile(2, timeout=5)
        assert cp.url == targets[2].url
        transport = mini.peers["CP-UP"]._connection.transport
        assert transport.get_extra_info("ssl_object") is not None  # the CSMS sees TLS
        assert mini.auth_headers[-1] is not None and mini.auth_headers[-1].startswith("Basic ")
        assert len(mini.payloads("BootNotification")) == 1  # a reconnect, not a reboot
        assert cp.config.get("SecurityProfile") == "2"
        answer = await mini.call("CP-UP", call.ChangeConfiguration("SecurityProfile", "1"))
        assert answer.status == "Rejected"  # never down again over OCPP
    finally:
        await cp.close()
        for server in (plain, tls):
            server.close()
            await server.wait_closed()


async def test_a_refused_security_profile_says_why(csms: MiniCsms, start_cp: StartCp) -> None:
    """TC_083 against a CSMS whose profile-2 URL the charge point was not given: the reason
    for the Rejected is kept with the call and in the transcript a failed step shows."""
    from ocpp_bench.scenario.charge_point import SimulatedChargePoint

    cp = await start_cp("CP-WHY", password="0123456789abcdef")
    answer = await csms.call("CP-WHY", call.ChangeConfiguration("SecurityProfile", "2"))
    assert answer.status == "Rejected"
    refused = await cp.expect_call("ChangeConfiguration", timeout=1)
    assert refused.reason is not None
    assert refused.reason.startswith("SecurityProfile 2 Rejected: no endpoint for security")
    shown = "\n".join(SimulatedChargePoint(cp).transcript(12))  # what a failed step prints
    assert f"NOTE       ChangeConfiguration {refused.reason}" in shown, shown


async def test_a_raised_profile_that_never_connects_falls_back(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    """A05.FR.08: when the new profile's endpoint never answers, the old settings return."""
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        nowhere = Target(f"wss://127.0.0.1:{closed.getsockname()[1]}/ocpp", tls_context())
    targets = {1: Target(csms.url), 2: nowhere}
    cp = await start_cp("CP-BACK", password="0123456789abcdef", profile_targets=targets.get)
    answer = await csms.call("CP-BACK", call.ChangeConfiguration("SecurityProfile", "2"))
    assert answer.status == "Accepted"
    await csms.wait_connected("CP-BACK", count=2)
    await cp.wait_ready(5)
    assert cp.url == csms.url and cp.security().profile == 1
    assert len(cp.connect_errors) == 3  # FALL_BACK_AFTER attempts at the new endpoint
    assert cp.config.get("SecurityProfile") == "0"
    with pytest.raises(NotConnected, match="not connected with security profile 2"):
        await cp.wait_profile(2, timeout=0.2)


async def test_probe_reports_how_the_csms_met_the_attempt(
    csms: MiniCsms, start_cp: StartCp
) -> None:
    cp = await start_cp("CP-PROBE")
    agreed = await cp.probe(["ocpp0.1", "ocpp1.6"])
    assert (agreed.status, agreed.subprotocol, agreed.accepted) == (101, "ocpp1.6", True)
    refused = await cp.probe(["ocpp0.1"])  # websockets' own answer: HTTP 400
    assert (refused.status, refused.accepted) == (400, False)


async def test_a_fleet_given_profile_urls_raises_its_profile(
    ca: trustme.CA, tmp_path: Path
) -> None:
    """`sim fleet --url-profile2 URL`: the fleet's charge points know where profile 2 is."""
    mini = MiniCsms()
    plain = await start_csms(mini)
    ws_url = mini.url
    tls = await start_csms(mini, server_context(ca, mutual=False))
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    endpoints = Endpoints.from_url(ws_url, {2: mini.url}, tls_ca=str(ca_file))
    options = FleetOptions(url=ws_url, count=2, rate=100, password="0123456789abcdef")
    fleet = Fleet(options, endpoints=endpoints)
    runner = asyncio.create_task(fleet.run())
    try:
        await eventually(lambda: fleet.accepted == 2)
        answer = await mini.call("SIM-00001", call.ChangeConfiguration("SecurityProfile", "2"))
        assert answer.status == "Accepted"
        first, second = fleet.charge_points
        await first.wait_profile(2, timeout=5)
        assert first.url == mini.url and second.url == ws_url  # only the one asked
        transport = mini.peers["SIM-00001"]._connection.transport
        assert transport.get_extra_info("ssl_object") is not None
    finally:
        fleet.stop()
        await runner
        for server in (plain, tls):
            server.close()
            await server.wait_closed()


def test_profile_targets_offer_only_what_was_given(tmp_path: Path, ca: trustme.CA) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    urls = {2: "wss://h:1/ocpp", 3: "wss://h:2/ocpp"}
    lookup = Endpoints.from_url("ws://h/ocpp", urls, tls_ca=str(ca_file)).lookup("CP-1")
    assert lookup(1) == Target("ws://h/ocpp")
    found = lookup(2)
    assert found is not None and found.url == "wss://h:1/ocpp" and found.ssl_context is not None
    assert lookup(3) is None  # mutual TLS needs a client certificate
    client = ca.issue_cert("CP-1")
    cert_file = tmp_path / "cp.pem"
    client.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    with_cert = Endpoints.from_url(
        "wss://h:1/ocpp", {3: "wss://h:2/ocpp"}, tls_ca=str(ca_file), cert=str(cert_file)
    ).lookup("CP-1")
    assert with_cert(1) is None and with_cert(2) is None  # nowhere given, never down to ws
    assert with_cert(3) is not None
