"""OCPP 2.0.1 wire adapter: one short handler per station-initiated action.

Each turns a payload into a service call (through `mapping`, into the domain's types) and the
service's result into the response payload. Notifications the CSMS acts on no further are
recorded as the charger's events, as for 1.6.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ocppj import Handler
from ocppj.timestamps import now

from ..services import Services
from . import mapping
from .operations import keep_profile

if TYPE_CHECKING:
    from cryptography import x509

    from ..adapter import Peer

Payload = dict[str, Any]

# notifications kept as events, with the answer each gets (empty but for a status)
NOTIFICATIONS: dict[str, Payload] = {
    "NotifyEvent": {},
    "FirmwareStatusNotification": {},
    "LogStatusNotification": {},
    "SecurityEventNotification": {},
    "NotifyChargingLimit": {},
    "ClearedChargingLimit": {},
    "NotifyDisplayMessages": {},
    "NotifyMonitoringReport": {},
    "PublishFirmwareStatusNotification": {},
    # the CSMS computes no schedules: it takes note and leaves the EV's needs to the station
    "NotifyEVChargingNeeds": {"status": "Rejected"},
    "NotifyEVChargingSchedule": {"status": "Rejected"},
    # no ISO 15118 PKI behind this CSMS (as the spec allows, answered Failed)
    "Get15118EVCertificate": {"status": "Failed", "exiResponse": ""},
    "GetCertificateStatus": {"status": "Failed"},
}
# reservationUpdateStatus -> what the reservation becomes
RESERVATION_ENDS = {"Expired": "Expired", "Removed": "Cancelled"}


def handlers(
    services: Services, connection: Peer, on_boot: Callable[[str], None]
) -> dict[str, Handler]:
    """The handler table for one connected station; `on_boot` is told each boot verdict."""
    charger_id = connection.charger_id

    async def boot_notification(payload: Payload) -> Payload:
        decision = await services.chargers.boot(charger_id, mapping.boot(payload))
        await services.chargers.notification(
            charger_id, "BootNotification", {"reason": payload["reason"]}, decision.status
        )
        connection.boot_accepted = decision.status == "Accepted"
        on_boot(decision.status)
        return {"status": decision.status, "currentTime": now(), "interval": decision.interval}

    async def heartbeat(payload: Payload) -> Payload:
        return {"currentTime": now()}

    async def status_notification(payload: Payload) -> Payload:
        await services.chargers.status_notification(charger_id, mapping.status_change(payload))
        return {}

    async def authorize(payload: Payload) -> Payload:
        tag = mapping.id_tag(payload["idToken"])
        if tag is None:  # NoAuthorization: nobody to check
            return {"idTokenInfo": {"status": "Accepted"}}
        info = await services.authorization.check(tag, payload["idToken"]["type"])
        return {"idTokenInfo": mapping.id_token_info(info)}

    async def transaction_event(payload: Payload) -> Payload:
        event = mapping.transaction_event(payload)
        recorded, info = await services.transactions.event(charger_id, event)
        connection.transactions.learn(event.transaction_id, recorded.transaction_id)
        return {} if info is None else {"idTokenInfo": mapping.id_token_info(info)}

    async def meter_values(payload: Payload) -> Payload:
        samples = mapping.samples(payload["meterValue"])
        await services.transactions.meter_values(charger_id, payload["evseId"], None, samples)
        return {}

    async def notify_report(payload: Payload) -> Payload:
        await services.device_model.report(charger_id, mapping.report_part(payload))
        return {}

    async def notify_customer_information(payload: Payload) -> Payload:
        await services.customers.part(charger_id, mapping.customer_part(payload))
        return {}

    async def data_transfer(payload: Payload) -> Payload:
        # no vendor extension is implemented: a known vendor's messages are unknown
        if not services.chargers.knows_vendor(payload["vendorId"]):
            status = "UnknownVendorId"
        elif "messageId" in payload:
            status = "UnknownMessageId"
        else:
            status = "Rejected"
        await services.chargers.notification(charger_id, "DataTransfer", payload, status)
        return {"status": status}

    async def sign_certificate(payload: Payload) -> Payload:
        csr = await services.certificates.request(charger_id, payload["csr"])
        if csr is None:
            return {"status": "Rejected"}
        kind = payload.get("certificateType")
        connection.after_reply(lambda: send_certificate(csr, kind))
        return {"status": "Accepted"}

    async def send_certificate(csr: x509.CertificateSigningRequest, kind: str | None) -> None:
        request: Payload = {"certificateChain": services.certificates.sign(csr)}
        if kind is not None:
            request["certificateType"] = kind
        result = await connection.call("CertificateSigned", request)
        exchange = {"request": request, "response": result}
        await services.certificates.sent(charger_id, result.get("status"), exchange)

    async def reservation_status_update(payload: Payload) -> Payload:
        status = payload["reservationUpdateStatus"]
        await services.chargers.notification(charger_id, "ReservationStatusUpdate", payload, status)
        await services.reservations.set_status(
            charger_id, payload["reservationId"], RESERVATION_ENDS[status]
        )
        return {}

    async def report_charging_profiles(payload: Payload) -> Payload:
        """GetChargingProfiles' answer, in parts: each profile the station has is kept as the
        CSMS's record of it (one set by another CSMS, or before a restore, included)."""
        await services.chargers.notification(charger_id, "ReportChargingProfiles", payload, None)
        for profile in payload["chargingProfile"]:
            await keep_profile(services, charger_id, payload["evseId"], profile)
        return {}

    def notification(kind: str, answer: Payload) -> Callable[[Payload], Awaitable[Payload]]:
        async def record(payload: Payload) -> Payload:
            await services.chargers.notification(charger_id, kind, payload, payload.get("status"))
            if kind == "FirmwareStatusNotification":
                await services.chargers.firmware_status(charger_id, payload["status"])
            elif kind == "LogStatusNotification":  # where the log upload is
                await services.chargers.diagnostics_status(charger_id, payload["status"])
            return dict(answer)

        return record

    table: dict[str, Handler] = {
        "BootNotification": boot_notification,
        "Heartbeat": heartbeat,
        "StatusNotification": status_notification,
        "Authorize": authorize,
        "TransactionEvent": transaction_event,
        "MeterValues": meter_values,
        "NotifyReport": notify_report,
        "NotifyCustomerInformation": notify_customer_information,
        "DataTransfer": data_transfer,
        "SignCertificate": sign_certificate,
        "ReservationStatusUpdate": reservation_status_update,
        "ReportChargingProfiles": report_charging_profiles,
    }
    table.update({kind: notification(kind, answer) for kind, answer in NOTIFICATIONS.items()})
    return table
