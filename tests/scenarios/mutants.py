"""Deliberately broken variants of our CSMS, to prove the conformance suite can fail.

Each mutant switches one fault on in a running CSMS: an action answered with a CALLERROR, an
operation never sent (while the CSMS reports it done), sent with a wrong payload, a wrong
verdict for a tag, a setting not kept. `cases` are the catalogue cases about that behaviour:
each must fail against the mutant.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from csms import CsmsApp, server
from csms.services import TagInfo
from ocpp_bench.scenario.charge_point import Endpoints, charge_point_factory
from ocpp_bench.scenario.drivers import EmbeddedCsms, EmbeddedDriver
from ocpp_bench.scenario.loader import Scenario, load_file
from ocpp_bench.scenario.outcomes import NotRun, ProtocolViolation, StepError
from ocpp_bench.scenario.runner import Run
from ocppj.errors import InternalError

Payload = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2] / "scenarios"
# Cases run this many at a time: all 121 at once left boots unanswered within 5 s on 2 cores.
AT_ONCE = 8
SUITES = [ROOT / "ocpp16", ROOT / "ocpp201"]


@dataclass(frozen=True)
class Mutant:
    name: str
    fault: str
    cases: tuple[str, ...]
    apply: Callable[[CsmsApp], None]
    undo: Callable[[], None] | None = None  # after the run: for a fault outside the app


# -- kinds of fault --------------------------------------------------------------------------


def _fails(owner: Callable[[CsmsApp], Any], method: str) -> Callable[[CsmsApp], None]:
    """The handler that calls `owner(app).method` answers CALLERROR InternalError."""

    def apply(app: CsmsApp) -> None:
        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise InternalError(f"mutant: {method} broken")

        setattr(owner(app), method, broken)

    return apply


def _notification_fails(kind: str) -> Callable[[CsmsApp], None]:
    def apply(app: CsmsApp) -> None:
        chargers = app.services.chargers
        original = chargers.notification

        async def notification(charger_id: str, what: str, *args: Any) -> None:
            if what == kind:
                raise InternalError(f"mutant: {kind} broken")
            await original(charger_id, what, *args)

        chargers.notification = notification  # type: ignore[method-assign]

    return apply


def _operation(
    action: str,
    change: Callable[[Payload], Payload | None] = lambda payload: None,
    answer: Payload | None = None,
) -> Callable[[CsmsApp], None]:
    """`action` sent as `change` makes it (None: never sent, reported Accepted); with
    `answer`, the CSMS reports that answer whatever the charge point said."""

    def apply(app: CsmsApp) -> None:
        operations = app.operations
        original = operations.send

        async def send(
            charger_id: str, what: str, payload: Payload, timeout: float | None = None
        ) -> Payload:
            if what != action:
                return await original(charger_id, what, payload, timeout)
            changed = change(dict(payload))
            if changed is None:
                return {"status": "Accepted"}
            result = await original(charger_id, what, changed, timeout)
            return answer if answer is not None else result

        operations.send = send  # type: ignore[method-assign]

    return apply


def _verdict(wrong: Callable[[TagInfo], TagInfo]) -> Callable[[CsmsApp], None]:
    def apply(app: CsmsApp) -> None:
        authorization = app.services.authorization
        original = authorization.check

        async def check(id_tag: str, **kwargs: Any) -> TagInfo:
            return wrong(await original(id_tag, **kwargs))

        authorization.check = check  # type: ignore[method-assign]

    return apply


def _as_accepted(status: str) -> Callable[[TagInfo], TagInfo]:
    return lambda info: replace(info, status="Accepted") if info.status == status else info


def _keeps_no_password(app: CsmsApp) -> None:
    async def set_password(charger_id: str, password: str | None) -> bool:
        return True

    app.services.chargers.set_password = set_password  # type: ignore[method-assign]


def _keeps_no_security_profile(app: CsmsApp) -> None:
    operations = app.operations
    original = operations.record

    async def record(charger_id: str, action: str, request: Payload, result: Payload) -> None:
        if request.get("key") != "SecurityProfile":
            await original(charger_id, action, request, result)

    operations.record = record  # type: ignore[method-assign]


def _pending_boot(app: CsmsApp) -> None:
    from csms.services import BootDecision

    chargers = app.services.chargers
    original = chargers.boot

    async def boot(charger_id: str, payload: Payload) -> BootDecision:
        decision = await original(charger_id, payload)
        return BootDecision("Pending", decision.interval)

    chargers.boot = boot  # type: ignore[method-assign]


def _pending_reboots(app: CsmsApp) -> None:
    from csms.services import BootDecision

    chargers = app.services.chargers
    original = chargers.boot
    booted: set[str] = set()

    async def boot(charger_id: str, payload: Payload) -> BootDecision:
        decision = await original(charger_id, payload)
        if charger_id not in booted:
            booted.add(charger_id)
            return decision
        return BootDecision("Pending", decision.interval)

    chargers.boot = boot  # type: ignore[method-assign]


def _knows_every_vendor(app: CsmsApp) -> None:
    app.services.chargers.knows_vendor = lambda vendor_id: True  # type: ignore[method-assign]


def _rejects_csrs(app: CsmsApp) -> None:
    async def request(charger_id: str, csr_pem: str) -> None:
        return None

    app.services.certificates.request = request  # type: ignore[method-assign,assignment]


_BASIC_AUTH = server.basic_auth


def _any_username(app: CsmsApp) -> None:
    """The handshake takes the password under any Basic Auth username (the listeners read
    `basic_auth` from their module; `_strict_username` puts it back)."""

    def lenient(headers: Any, identity: str) -> str | None:
        value = headers.get("Authorization")
        if value is None:
            return None
        _, _, password = base64.b64decode(value.partition(" ")[2]).decode().partition(":")
        return password

    server.basic_auth = lenient


def _strict_username() -> None:
    server.basic_auth = _BASIC_AUTH


def _old_tls_allowed(app: CsmsApp) -> None:
    """The TLS listeners take TLS 1.0 and 1.1 too (new handshakes read the context)."""
    for listener in app._tls_servers.values():
        context = listener.ssl_context
        assert context is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")


def _pending_ignored(app: CsmsApp) -> None:
    """A charger registered Pending is answered Accepted."""
    from csms.services import BootDecision

    chargers = app.services.chargers
    original = chargers.boot

    async def boot(charger_id: str, payload: Payload) -> BootDecision:
        decision = await original(charger_id, payload)
        return BootDecision("Accepted", decision.interval)

    chargers.boot = boot  # type: ignore[method-assign]


def _upgrade_not_kept(app: CsmsApp) -> None:
    """A charger that connected with a security profile offered to it keeps its old one."""

    async def upgraded(charger_id: str, profile: int) -> None:
        return None

    app.services.chargers.upgraded = upgraded  # type: ignore[method-assign]


def _offer_ignored(app: CsmsApp) -> None:
    """An accepted SetNetworkProfile of a higher security profile admits nobody with it."""

    async def offer_profile(charger_id: str, profile: int) -> None:
        return None

    app.services.chargers.offer_profile = offer_profile  # type: ignore[method-assign]


def _plus_one(key: str) -> Callable[[Payload], Payload]:
    return lambda payload: {**payload, key: payload[key] + 1}


def _swap(key: str, one: str, other: str) -> Callable[[Payload], Payload]:
    return lambda payload: {**payload, key: other if payload[key] == one else one}


def _without(key: str) -> Callable[[Payload], Payload]:
    return lambda payload: {k: v for k, v in payload.items() if k != key}


def _unsigned(payload: Payload) -> Payload:
    firmware = {
        k: v for k, v in payload["firmware"].items() if k not in ("signingCertificate", "signature")
    }
    return {**payload, "firmware": firmware}


# 2.0.1 block L: every case, those the station tells progress in, those ending in a reboot
L_CASES = tuple(f"TC_L_{n:02d}_CSMS" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13))
L_PROGRESS = tuple(case for case in L_CASES if case not in ("TC_L_04_CSMS", "TC_L_05_CSMS"))
L_REBOOTS = ("TC_L_01_CSMS", "TC_L_02_CSMS", "TC_L_03_CSMS", "TC_L_10_CSMS", "TC_L_11_CSMS",
             "TC_L_13_CSMS")  # fmt: skip

# 2.0.1 block N: the log uploads; the customer cases, those with a report to answer, with a clear
N_LOGS = ("TC_N_25_CSMS", "TC_N_34_CSMS", "TC_N_35_CSMS", "TC_N_36_CSMS")
N_UPLOADS = tuple(case for case in N_LOGS if case != "TC_N_34_CSMS")
N_CUSTOMERS = tuple(f"TC_N_{n}_CSMS" for n in (27, 28, 29, 30, 31, 32, 62))
N_REPORTED = tuple(case for case in N_CUSTOMERS if case != "TC_N_29_CSMS")
N_CLEARS = ("TC_N_30_CSMS", "TC_N_31_CSMS", "TC_N_32_CSMS", "TC_N_62_CSMS")


# -- the mutants -----------------------------------------------------------------------------

MUTANTS = [
    # Core
    Mutant(
        "boot-pending",
        "BootNotification answered Pending",
        ("TC_001_CSMS", "TC_B_01_CSMS"),
        _pending_boot,
    ),
    Mutant(
        "status-callerror",
        "StatusNotification answered with a CALLERROR",
        ("TC_001_CSMS", "TC_024_CSMS", "TC_003_CSMS"),
        _fails(lambda app: app.services.chargers, "status_notification"),
    ),
    Mutant(
        "unknown-tag-accepted",
        "an unknown tag is Accepted",
        ("TC_023_1_CSMS", "TC_C_02_CSMS", "TC_C_20_CSMS"),
        _verdict(_as_accepted("Invalid")),
    ),
    Mutant(
        "expired-tag-accepted",
        "an expired tag is Accepted",
        ("TC_023_2_CSMS", "TC_C_07_CSMS"),
        _verdict(_as_accepted("Expired")),
    ),
    Mutant(
        "blocked-tag-accepted",
        "a blocked tag is Accepted",
        ("TC_023_3_CSMS", "TC_C_06_CSMS"),
        _verdict(_as_accepted("Blocked")),
    ),
    Mutant(
        "start-callerror",
        "StartTransaction answered with a CALLERROR",
        ("TC_003_CSMS", "TC_004_1_CSMS", "TC_010_CSMS", "TC_037_1_CSMS", "TC_039_CSMS"),
        _fails(lambda app: app.services.transactions, "start"),
    ),
    Mutant(
        "stop-callerror",
        "StopTransaction answered with a CALLERROR",
        ("TC_005_1_CSMS", "TC_012_CSMS", "TC_018_1_CSMS", "TC_032_1_CSMS", "TC_039_CSMS"),
        _fails(lambda app: app.services.transactions, "stop"),
    ),
    Mutant(
        "remote-start-not-sent",
        "RemoteStartTransaction reported sent, never sent",
        ("TC_010_CSMS", "TC_011_1_CSMS", "TC_011_2_CSMS"),
        _operation("RemoteStartTransaction"),
    ),
    Mutant(
        "remote-start-reported-accepted",
        "RemoteStartTransaction reported Accepted whatever the charge point answered",
        ("TC_026_CSMS",),
        _operation("RemoteStartTransaction", dict, {"status": "Accepted"}),
    ),
    Mutant(
        "remote-stop-wrong-transaction",
        "RemoteStopTransaction sent for another transaction id",
        ("TC_012_CSMS", "TC_028_CSMS"),
        _operation("RemoteStopTransaction", _plus_one("transactionId")),
    ),
    Mutant(
        "reset-wrong-type",
        "Reset sent with the other type",
        ("TC_013_CSMS", "TC_014_CSMS"),
        _operation("Reset", _swap("type", "Hard", "Soft")),
    ),
    Mutant(
        "unlock-not-sent",
        "UnlockConnector reported sent, never sent",
        (
            "TC_017_1_CSMS",
            "TC_017_2_CSMS",
            "TC_018_1_CSMS",
            "TC_030_CSMS",
            "TC_031_CSMS",
            "TC_F_06_CSMS",
        ),
        _operation("UnlockConnector"),
    ),
    Mutant(
        "get-configuration-drops-keys",
        "GetConfiguration sent without the keys asked for",
        ("TC_019_2_CSMS",),
        _operation("GetConfiguration", _without("key")),
    ),
    Mutant(
        "change-configuration-not-sent",
        "ChangeConfiguration reported sent, never sent",
        ("TC_021_CSMS", "TC_040_1_CSMS", "TC_040_2_CSMS"),
        _operation("ChangeConfiguration"),
    ),
    Mutant(
        "clear-cache-not-sent",
        "ClearCache never sent",
        ("TC_061_CSMS", "TC_C_37_CSMS"),
        _operation("ClearCache"),
    ),
    Mutant(
        "unknown-vendor-accepted",
        "DataTransfer from an unknown vendor Accepted",
        ("TC_064_CSMS",),
        _knows_every_vendor,
    ),
    # Local authorization list
    Mutant(
        "local-list-version-not-sent",
        "GetLocalListVersion never sent",
        ("TC_042_1_CSMS", "TC_042_2_CSMS"),
        _operation("GetLocalListVersion"),
    ),
    Mutant(
        "local-list-wrong-update-type",
        "SendLocalList sent with the other update type",
        ("TC_043_4_CSMS", "TC_043_5_CSMS"),
        _operation("SendLocalList", _swap("updateType", "Full", "Differential")),
    ),
    Mutant(
        "local-list-not-sent",
        "SendLocalList never sent",
        ("TC_043_1_CSMS", "TC_043_3_CSMS"),
        _operation("SendLocalList"),
    ),
    # Firmware management
    Mutant(
        "update-firmware-not-sent",
        "UpdateFirmware never sent",
        ("TC_044_1_CSMS", "TC_044_2_CSMS", "TC_044_3_CSMS", *L_CASES),
        _operation("UpdateFirmware"),
    ),
    Mutant(
        "firmware-status-callerror",
        "FirmwareStatusNotification answered with a CALLERROR",
        ("TC_044_1_CSMS", "TC_044_2_CSMS", "TC_044_3_CSMS", *L_PROGRESS),
        _notification_fails("FirmwareStatusNotification"),
    ),
    Mutant(
        "diagnostics-not-sent",
        "GetDiagnostics never sent",
        ("TC_045_1_CSMS", "TC_045_2_CSMS"),
        _operation("GetDiagnostics"),
    ),
    Mutant(
        "diagnostics-status-callerror",
        "DiagnosticsStatusNotification answered with a CALLERROR",
        ("TC_045_1_CSMS", "TC_045_2_CSMS"),
        _notification_fails("DiagnosticsStatusNotification"),
    ),
    # Reservation
    Mutant(
        "reserve-wrong-connector",
        "ReserveNow sent for another connector",
        ("TC_046_CSMS", "TC_047_CSMS", "TC_048_1_CSMS", "TC_049_CSMS", "TC_053_CSMS"),
        _operation("ReserveNow", _plus_one("connectorId")),
    ),
    Mutant(
        "reserve-not-sent",
        "ReserveNow never sent",
        ("TC_048_2_CSMS", "TC_048_3_CSMS", "TC_048_4_CSMS", "TC_051_CSMS"),
        _operation("ReserveNow"),
    ),
    Mutant(
        "cancel-reservation-wrong-id",
        "CancelReservation sent for another reservation",
        ("TC_051_CSMS", "TC_052_CSMS"),
        _operation("CancelReservation", _plus_one("reservationId")),
    ),
    Mutant(
        "change-availability-not-sent",
        "ChangeAvailability never sent",
        ("TC_048_3_CSMS",),
        _operation("ChangeAvailability"),
    ),
    # Remote trigger
    Mutant(
        "trigger-not-sent",
        "TriggerMessage never sent",
        ("TC_054_CSMS", "TC_055_CSMS"),
        _operation("TriggerMessage"),
    ),
    # Smart charging
    Mutant(
        "charging-profile-not-sent",
        "SetChargingProfile never sent",
        ("TC_056_CSMS", "TC_057_CSMS", "TC_066_CSMS", "TC_067_CSMS"),
        _operation("SetChargingProfile"),
    ),
    Mutant(
        "remote-start-drops-profile",
        "RemoteStartTransaction sent without its charging profile",
        ("TC_059_CSMS",),
        _operation("RemoteStartTransaction", _without("chargingProfile")),
    ),
    Mutant(
        "composite-schedule-not-sent",
        "GetCompositeSchedule never sent",
        ("TC_066_CSMS",),
        _operation("GetCompositeSchedule"),
    ),
    Mutant(
        "clear-profile-not-sent",
        "ClearChargingProfile never sent",
        ("TC_067_CSMS",),
        _operation("ClearChargingProfile"),
    ),
    # Security
    Mutant(
        "password-not-kept",
        "a new AuthorizationKey is sent but not kept",
        ("TC_073_CSMS",),
        _keeps_no_password,
    ),
    Mutant("csr-rejected", "every SignCertificate rejected", ("TC_074_CSMS",), _rejects_csrs),
    Mutant(
        "install-certificate-not-sent",
        "InstallCertificate never sent",
        ("TC_075_1_CSMS", "TC_075_2_CSMS", "TC_076_CSMS"),
        _operation("InstallCertificate"),
    ),
    Mutant(
        "delete-certificate-not-sent",
        "DeleteCertificate never sent",
        ("TC_076_CSMS",),
        _operation("DeleteCertificate"),
    ),
    Mutant(
        "security-event-callerror",
        "SecurityEventNotification answered with a CALLERROR",
        ("TC_077_CSMS", "TC_078_CSMS", "TC_081_CSMS"),
        _notification_fails("SecurityEventNotification"),
    ),
    Mutant("get-log-not-sent", "GetLog never sent", ("TC_079_CSMS", *N_LOGS), _operation("GetLog")),
    Mutant(
        "log-status-callerror",
        "LogStatusNotification answered with a CALLERROR",
        ("TC_079_CSMS", *N_UPLOADS),
        _notification_fails("LogStatusNotification"),
    ),
    Mutant(
        "customer-information-not-sent",
        "CustomerInformation never sent (2.0.1)",
        N_CUSTOMERS,
        _operation("CustomerInformation"),
    ),
    Mutant(
        "customer-information-never-clears",
        "CustomerInformation sent with clear false whatever was asked (2.0.1)",
        N_CLEARS,
        _operation("CustomerInformation", lambda payload: {**payload, "clear": False}),
    ),
    Mutant(
        "notify-customer-information-callerror",
        "NotifyCustomerInformation answered with a CALLERROR (2.0.1)",
        N_REPORTED,
        _fails(lambda app: app.services.customers, "part"),
    ),
    Mutant(
        "signed-firmware-not-sent",
        "SignedUpdateFirmware never sent",
        ("TC_080_CSMS", "TC_081_CSMS"),
        _operation("SignedUpdateFirmware"),
    ),
    Mutant(
        "signed-firmware-status-callerror",
        "SignedFirmwareStatusNotification answered with a CALLERROR",
        ("TC_080_CSMS", "TC_081_CSMS"),
        _notification_fails("SignedFirmwareStatusNotification"),
    ),
    # OCPP 2.0.1
    Mutant(
        "get-variables-not-sent",
        "GetVariables reported sent, never sent",
        ("TC_B_06_CSMS",),
        _operation("GetVariables"),
    ),
    Mutant(
        "set-variables-not-sent",
        "SetVariables reported sent, never sent",
        ("TC_B_09_CSMS",),
        _operation("SetVariables"),
    ),
    Mutant(
        "request-start-not-sent",
        "RequestStartTransaction reported sent, never sent",
        ("TC_F_01_CSMS", "TC_F_02_CSMS", "TC_F_03_CSMS"),
        _operation("RequestStartTransaction"),
    ),
    Mutant(
        "transaction-event-callerror",
        "TransactionEvent answered with a CALLERROR",
        ("TC_E_03_CSMS", "TC_E_04_CSMS", "TC_E_15_CSMS", "TC_E_17_CSMS"),
        _fails(lambda app: app.services.transactions, "event"),
    ),
    Mutant(
        "transaction-status-not-sent",
        "GetTransactionStatus reported sent, never sent",
        ("TC_E_29_CSMS", "TC_E_30_CSMS", "TC_E_31_CSMS", "TC_E_33_CSMS", "TC_E_34_CSMS"),
        _operation("GetTransactionStatus"),
    ),
    Mutant(
        "transaction-status-wrong-transaction",
        "GetTransactionStatus sent for another transaction (with an id where none was asked)",
        ("TC_E_29_CSMS", "TC_E_31_CSMS", "TC_E_33_CSMS"),
        _operation(
            "GetTransactionStatus",
            lambda payload: {**payload, "transactionId": f"not-{payload.get('transactionId')}"},
        ),
    ),
    Mutant(
        "update-firmware-unsigned",
        "UpdateFirmware sent without the signing certificate and signature (L01.FR.11)",
        L_CASES,
        _operation("UpdateFirmware", _unsigned),
    ),
    Mutant(
        "reboot-boot-pending",
        "a station's boots after its first (the reboot of a firmware update) answered Pending",
        L_REBOOTS,
        _pending_reboots,
    ),
    Mutant(
        "security-profile-not-kept",
        "a raised SecurityProfile is sent but not kept",
        ("TC_083_CSMS",),
        _keeps_no_security_profile,
    ),
    Mutant(
        "basic-auth-any-username",
        "the Basic Auth password is taken under any username",
        ("TC_A_02_CSMS",),
        _any_username,
        _strict_username,
    ),
    Mutant(
        "tls-below-1-2",
        "the TLS listeners take TLS 1.0 and 1.1",
        ("TC_A_06_CSMS",),
        _old_tls_allowed,
    ),
    Mutant(
        "set-network-profile-not-sent",
        "SetNetworkProfile reported sent, never sent",
        ("TC_A_19_CSMS", "TC_B_42_CSMS", "TC_B_44_CSMS"),
        _operation("SetNetworkProfile"),
    ),
    Mutant(
        "network-profile-upgrade-not-kept",
        "a charger that connected with a raised security profile may still use the old one",
        ("TC_A_19_CSMS",),
        _upgrade_not_kept,
    ),
    Mutant(
        "network-profile-offer-ignored",
        "a charger is refused on the raised security profile SetNetworkProfile gave it",
        ("TC_A_19_CSMS",),
        _offer_ignored,
    ),
    Mutant(
        "pending-registration-ignored",
        "a charger registered Pending is answered Accepted",
        ("TC_B_02_CSMS", "TC_B_30_CSMS", "TC_B_31_CSMS"),
        _pending_ignored,
    ),
]


# -- running cases against a mutant ------------------------------------------------------------


def suite() -> dict[str, Scenario]:
    return {
        scenario.id: scenario
        for folder in SUITES
        for path in sorted(folder.glob("*.yaml"))
        if path.name != "defaults.yaml"
        for scenario in load_file(path)
    }


def verdicts(mutant: Mutant | None, cases: list[Scenario]) -> dict[str, str | None]:
    """Run `cases` (AT_ONCE at a time) against our CSMS with `mutant` switched on: each case's
    failure (None: passed, or not run: neither fails the case)."""
    csms = EmbeddedCsms()
    try:
        urls = csms.start()
        if mutant is not None:
            mutant.apply(csms.app)
        endpoints = Endpoints(urls, tls_ca=csms.ca_file, client_cert=csms.client_cert)
        factory = charge_point_factory(endpoints)
        driver = EmbeddedDriver(csms)

        async def one(scenario: Scenario, slots: asyncio.Semaphore) -> str | None:
            async with slots:
                try:
                    await Run(scenario, driver, factory, timeout=5.0).execute()
                except (StepError, ProtocolViolation) as exc:
                    return str(exc)
                except NotRun:
                    return None
                return None

        async def every() -> list[str | None]:
            slots = asyncio.Semaphore(AT_ONCE)
            return list(await asyncio.gather(*(one(case, slots) for case in cases)))

        return dict(zip((case.id for case in cases), asyncio.run(every()), strict=True))
    finally:
        csms.stop()
        if mutant is not None and mutant.undo is not None:
            mutant.undo()
