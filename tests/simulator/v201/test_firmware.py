"""The 2.0.1 station's firmware updates (L01, L02): the request's answer, the statuses that
follow with its requestId, the reboot, scripted failures, cancelling, and transactions."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.v201 import call

from simulator import ChargePoint, EvseSpec, InvalidAction, Outcome

from ..conftest import MiniCsms
from .conftest import StartStation

SIGNATURE = base64.b64encode(b"a signature").decode()
HAPPY = ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting"]


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(
    cn: str = "firmware signing",
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    days: tuple[int, int] = (-1, 365),
    ca: bool = False,
) -> tuple[str, x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    issuer_name, signer = (issuer[0].subject, issuer[1]) if issuer else (_name(cn), key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=days[0]))
        .not_valid_after(now + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), cert, key


def firmware(**fields: Any) -> dict[str, Any]:
    pem = fields.pop("pem", None) or certificate()[0]
    payload = {
        "location": "https://firmware.example/fw-1.0.1.bin",
        "retrieveDateTime": _in(-60),
        "signingCertificate": pem,
        "signature": SIGNATURE,
        **fields,
    }
    return {k: v for k, v in payload.items() if v is not None}


async def update(csms: MiniCsms, cp_id: str, request_id: int = 1, **fields: Any) -> str:
    answer = await csms.call(
        cp_id, call.UpdateFirmware(request_id=request_id, firmware=firmware(**fields))
    )
    return str(answer.status)


def statuses(csms: MiniCsms, cp_id: str, request_id: int | None = None) -> list[str]:
    return [
        p["status"]
        for p in csms.payloads("FirmwareStatusNotification", cp_id)
        if request_id is None or p.get("requestId") == request_id
    ]


async def until(csms: MiniCsms, status: str, request_id: int = 1, timeout: float = 5) -> None:
    await csms.wait_for(
        "FirmwareStatusNotification",
        lambda p: p["status"] == status and p.get("requestId") == request_id,
        timeout,
    )


def boots(csms: MiniCsms, cp_id: str) -> list[tuple[str, str]]:
    return [
        (p["reason"], p["chargingStation"]["firmwareVersion"])
        for p in csms.payloads("BootNotification", cp_id)
    ]


def events(csms: MiniCsms, cp_id: str) -> list[str]:
    return [p["type"] for p in csms.payloads("SecurityEventNotification", cp_id)]


async def charging(cp: ChargePoint, number: int = 1) -> None:
    await cp.plug_in(number)
    await cp.present_tag(number, "T")
    assert cp.transaction(number) is not None


# -- the update that works -------------------------------------------------------------------


async def test_a_signed_update_downloads_verifies_installs_and_reboots(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F1")
    assert await update(csms, "CS-F1", 7) == "Accepted"
    await until(csms, "Installed", 7)
    assert statuses(csms, "CS-F1") == [*HAPPY, "Installed"]
    assert all(p["requestId"] == 7 for p in csms.payloads("FirmwareStatusNotification"))
    assert boots(csms, "CS-F1") == [("PowerUp", "1.0.0"), ("FirmwareUpdate", "1.0.1")]
    await cp.wait_ready(5)
    await csms.wait_for("SecurityEventNotification", lambda p: p["type"] == "FirmwareUpdated")
    # the reboot came between InstallRebooting and Installed, the statuses after it
    order = [r.action for r in csms.received if r.action != "SecurityEventNotification"]
    assert order.index("FirmwareStatusNotification", order.index("BootNotification", 1)) > (
        order.index("BootNotification", 1)
    )
    assert cp.status(1) == "Available"


async def test_an_unsigned_update_has_no_signature_step(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-F2")
    answer = await csms.call(
        "CS-F2",
        call.UpdateFirmware(
            request_id=2,
            firmware={"location": "ftp://fw.example/a.bin", "retrieveDateTime": _in(0)},
        ),
    )
    assert answer.status == "Accepted"
    await until(csms, "Installed", 2)
    assert statuses(csms, "CS-F2") == [s for s in HAPPY if s != "SignatureVerified"] + ["Installed"]


async def test_retrieve_and_install_times_to_come_are_scheduled(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F3")
    assert await update(csms, "CS-F3", 3, retrieveDateTime=_in(0.4)) == "Accepted"
    await until(csms, "DownloadScheduled", 3)
    assert statuses(csms, "CS-F3") == ["DownloadScheduled"]
    await until(csms, "Installed", 3)
    assert statuses(csms, "CS-F3") == ["DownloadScheduled", *HAPPY, "Installed"]
    await cp.wait_ready(5)
    assert await update(csms, "CS-F3", 4, installDateTime=_in(0.6)) == "Accepted"
    await until(csms, "InstallScheduled", 4)
    assert statuses(csms, "CS-F3", 4) == [*HAPPY[:3], "InstallScheduled"]
    await until(csms, "Installed", 4)
    assert statuses(csms, "CS-F3", 4) == [*HAPPY[:3], "InstallScheduled", *HAPPY[3:], "Installed"]
    assert [b[1] for b in boots(csms, "CS-F3")] == ["1.0.0", "1.0.1", "1.0.2"]


async def test_trigger_message_reports_the_update_under_way_or_idle(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F4")

    async def triggered() -> dict[str, Any]:
        start = len(csms.received)
        trigger = call.TriggerMessage(requested_message="FirmwareStatusNotification")
        assert (await csms.call("CS-F4", trigger)).status == "Accepted"
        return await csms.wait_for("FirmwareStatusNotification", start=start)

    assert await triggered() == {"status": "Idle"}
    assert await update(csms, "CS-F4", 9, installDateTime=_in(1.0)) == "Accepted"
    await until(csms, "InstallScheduled", 9)
    assert await triggered() == {"status": "InstallScheduled", "requestId": 9}
    await until(csms, "Installed", 9)
    await cp.wait_ready(5)
    assert await triggered() == {"status": "Idle"}


# -- the signing certificate -----------------------------------------------------------------


async def test_a_signing_certificate_that_is_no_good_is_refused(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-F5")
    expired = certificate(days=(-30, -1))[0]
    for request_id, pem in enumerate(("junk", expired), 1):
        assert await update(csms, "CS-F5", request_id, pem=pem) == "InvalidCertificate"
    event = await csms.wait_for(
        "SecurityEventNotification",
        lambda p: p["type"] == "InvalidFirmwareSigningCertificate" and "not now" in p["techInfo"],
    )
    assert event["type"] == "InvalidFirmwareSigningCertificate"
    assert events(csms, "CS-F5") == ["InvalidFirmwareSigningCertificate"] * 2
    assert statuses(csms, "CS-F5") == []


async def test_with_a_manufacturer_root_installed_the_signer_must_be_its(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F6")
    root_pem, root, root_key = certificate("manufacturer root", ca=True)
    install = call.InstallCertificate(
        certificate_type="ManufacturerRootCertificate", certificate=root_pem
    )
    assert (await csms.call("CS-F6", install)).status == "Accepted"
    stranger = certificate("someone else")[0]
    assert await update(csms, "CS-F6", 1, pem=stranger) == "InvalidCertificate"
    issued = certificate("signer", issuer=(root, root_key))[0]
    assert await update(csms, "CS-F6", 2, pem=issued) == "Accepted"
    await until(csms, "Installed", 2)
    await cp.wait_ready(5)


async def test_a_revoked_signing_certificate_is_told_so(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F7")
    cp.set_outcome("UpdateFirmware", Outcome.fail("Revocation", times=2))
    assert await update(csms, "CS-F7", 1, pem="junk") == "InvalidCertificate"  # checked first
    assert await update(csms, "CS-F7", 2) == "RevokedCertificate"
    await csms.wait_for("SecurityEventNotification", lambda p: "revoked" in p["techInfo"])
    assert statuses(csms, "CS-F7") == []


# -- what goes wrong afterwards --------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "told"),
    [
        ("Downloading", ["Downloading", "DownloadFailed"]),
        ("SignatureVerified", ["Downloading", "Downloaded", "InvalidSignature"]),
        ("InstallVerification", [*HAPPY[:3], "InstallVerificationFailed"]),
        ("Installing", [*HAPPY[:4], "InstallationFailed"]),
    ],
)
async def test_scripted_failures_end_the_update_with_the_old_firmware(
    csms: MiniCsms, start_station: StartStation, stage: str, told: list[str]
) -> None:
    cp = await start_station("CS-F8")
    cp.set_outcome("UpdateFirmware", Outcome.fail(stage, times=1))
    assert await update(csms, "CS-F8", 5) == "Accepted"
    await until(csms, told[-1], 5)
    assert statuses(csms, "CS-F8") == told
    if stage == "SignatureVerified":
        event = await csms.wait_for("SecurityEventNotification")
        assert event["type"] == "InvalidFirmwareSignature"
    trigger = call.TriggerMessage(requested_message="FirmwareStatusNotification")
    assert (await csms.call("CS-F8", trigger)).status == "Accepted"
    await csms.wait_for("FirmwareStatusNotification", lambda p: p["status"] == "Idle")
    assert boots(csms, "CS-F8") == [("PowerUp", "1.0.0")]


async def test_a_signature_that_is_not_base64_is_invalid(
    csms: MiniCsms, start_station: StartStation
) -> None:
    await start_station("CS-F9")
    assert await update(csms, "CS-F9", 1, signature="not base64!") == "Accepted"
    await until(csms, "InvalidSignature", 1)
    event = await csms.wait_for("SecurityEventNotification")
    assert event["type"] == "InvalidFirmwareSignature"


async def test_a_failing_download_is_retried_as_the_request_says(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F10", time_scale=0.1)
    cp.set_outcome("UpdateFirmware", Outcome.fail("Downloading", times=1))
    answer = await csms.call(
        "CS-F10",
        call.UpdateFirmware(request_id=1, firmware=firmware(), retries=2, retry_interval=2),
    )
    assert answer.status == "Accepted"
    await until(csms, "Downloading", 1)
    started = datetime.now(UTC)
    await until(csms, "DownloadFailed", 1)
    assert (datetime.now(UTC) - started).total_seconds() >= 0.35  # 2 retries, 0.2 s apart
    assert statuses(csms, "CS-F10") == ["Downloading", "DownloadFailed"]


# -- a second request ------------------------------------------------------------------------


async def test_a_new_request_cancels_the_one_under_way(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F11")
    assert await update(csms, "CS-F11", 1, installDateTime=_in(30)) == "Accepted"
    await until(csms, "InstallScheduled", 1)
    assert await update(csms, "CS-F11", 2) == "AcceptedCanceled"
    await until(csms, "Installed", 2)
    assert statuses(csms, "CS-F11", 1) == [*HAPPY[:3], "InstallScheduled"]
    assert statuses(csms, "CS-F11", 2) == [*HAPPY, "Installed"]
    await cp.wait_ready(5)
    assert await update(csms, "CS-F11", 3) == "Accepted"  # nothing under way any more


async def test_unable_to_cancel_the_first_goes_on(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F12")
    assert await update(csms, "CS-F12", 1, installDateTime=_in(0.8)) == "Accepted"
    await until(csms, "InstallScheduled", 1)
    cp.set_outcome("UpdateFirmware", Outcome.reject(times=1))
    assert await update(csms, "CS-F12", 2) == "Rejected"
    await until(csms, "Installed", 1)
    assert statuses(csms, "CS-F12", 2) == []
    assert statuses(csms, "CS-F12", 1)[-1] == "Installed"


# -- transactions ----------------------------------------------------------------------------


async def test_a_running_transaction_holds_the_update_and_the_idle_evses(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station("CS-F13", evses=[EvseSpec(), EvseSpec()])
    await charging(cp)
    assert await update(csms, "CS-F13", 4) == "Accepted"
    await until(csms, "DownloadScheduled", 4)
    await csms.wait_for(
        "StatusNotification", lambda p: (p["evseId"], p["connectorStatus"]) == (2, "Unavailable")
    )
    assert cp.status(1) == "Occupied" and cp.status(2) == "Unavailable"
    with pytest.raises(InvalidAction):  # no new session meanwhile
        await cp.present_tag(2, "T")
    assert statuses(csms, "CS-F13") == ["DownloadScheduled"]
    await cp.stop_charging(1)
    await csms.wait_for(
        "StatusNotification", lambda p: (p["evseId"], p["connectorStatus"]) == (1, "Unavailable")
    )
    await cp.unplug(1)
    await until(csms, "Installed", 4)
    assert statuses(csms, "CS-F13") == ["DownloadScheduled", *HAPPY, "Installed"]
    await cp.wait_ready(5)
    assert cp.status(1) == "Available" and cp.status(2) == "Available"
    ended = csms.payloads("TransactionEvent")[-1]
    assert ended["eventType"] == "Ended"
    downloading = next(
        i
        for i, r in enumerate(csms.received)
        if r.action == "FirmwareStatusNotification" and r.payload["status"] == "Downloading"
    )
    assert csms.received.index(next(r for r in csms.received if r.payload is ended)) < downloading


async def test_new_sessions_while_waiting_when_the_station_allows_them(
    csms: MiniCsms, start_station: StartStation
) -> None:
    cp = await start_station(
        "CS-F14",
        evses=[EvseSpec(), EvseSpec()],
        configuration={"ChargingStation.AllowNewSessionsPendingFirmwareUpdate": "true"},
    )
    await charging(cp)
    assert await update(csms, "CS-F14", 1) == "Accepted"
    await until(csms, "DownloadScheduled", 1)
    await charging(cp, 2)  # allowed
    await cp.stop_charging(1)
    assert statuses(csms, "CS-F14") == ["DownloadScheduled"]  # the second still runs
    assert not [
        p for p in csms.payloads("StatusNotification") if p["connectorStatus"] == "Unavailable"
    ]
    await cp.stop_charging(2)
    await until(csms, "Installed", 1)
