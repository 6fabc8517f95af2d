"""OCPP 1.6 wire adapter: one short handler per charge-point-initiated action.

Each turns a payload into a service call (through `mapping`, into the domain's types) and the
service's result into the response payload.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ocppj import Handler
from ocppj.timestamps import now

from ..services import Services
from . import mapping
from .mapping import id_tag_info

if TYPE_CHECKING:
    from cryptography import x509

    from ..adapter import Peer

Payload = dict[str, Any]

NOTIFICATIONS = (
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "SecurityEventNotification",
    "LogStatusNotification",
    "SignedFirmwareStatusNotification",
)


def handlers(services: Services, connection: Peer) -> dict[str, Handler]:
    """The handler table for one connected charger."""
    charger_id = connection.charger_id

    async def boot_notification(payload: Payload) -> Payload:
        decision = await services.chargers.boot(charger_id, mapping.boot(payload))
        connection.boot_accepted = decision.status == "Accepted"
        return {"status": decision.status, "currentTime": now(), "interval": decision.interval}

    async def heartbeat(payload: Payload) -> Payload:
        return {"currentTime": now()}

    async def status_notification(payload: Payload) -> Payload:
        await services.chargers.status_notification(charger_id, mapping.status_change(payload))
        return {}

    async def authorize(payload: Payload) -> Payload:
        return {"idTagInfo": id_tag_info(await services.authorization.check(payload["idTag"]))}

    async def start_transaction(payload: Payload) -> Payload:
        start = mapping.transaction_start(payload)
        transaction_id, info = await services.transactions.start(charger_id, start)
        return {"transactionId": transaction_id, "idTagInfo": id_tag_info(info)}

    async def stop_transaction(payload: Payload) -> Payload:
        end = mapping.transaction_end(payload)
        info = await services.transactions.stop(charger_id, end)
        return {"idTagInfo": id_tag_info(info)} if info else {}

    async def meter_values(payload: Payload) -> Payload:
        await services.transactions.meter_values(
            charger_id,
            payload["connectorId"],
            payload.get("transactionId"),
            mapping.samples(payload["meterValue"]),
        )
        return {}

    async def data_transfer(payload: Payload) -> Payload:
        known = services.chargers.knows_vendor(payload["vendorId"])
        status = "Accepted" if known else "UnknownVendorId"
        await services.chargers.notification(charger_id, "DataTransfer", payload, status)
        return {"status": status}

    async def sign_certificate(payload: Payload) -> Payload:
        csr = await services.certificates.request(charger_id, payload["csr"])
        if csr is None:
            return {"status": "Rejected"}
        connection.after_reply(lambda: send_certificate(csr))
        return {"status": "Accepted"}

    async def send_certificate(csr: x509.CertificateSigningRequest) -> None:
        request = {"certificateChain": services.certificates.sign(csr)}
        result = await connection.call("CertificateSigned", request)
        exchange = {"request": request, "response": result}
        await services.certificates.sent(charger_id, result.get("status"), exchange)

    # notifications whose status is also kept as the charger's current one
    status_of = {
        "FirmwareStatusNotification": services.chargers.firmware_status,
        "SignedFirmwareStatusNotification": services.chargers.firmware_status,
        "DiagnosticsStatusNotification": services.chargers.diagnostics_status,
    }

    def notification(kind: str) -> Callable[[Payload], Awaitable[Payload]]:
        keep = status_of.get(kind)

        async def record(payload: Payload) -> Payload:
            await services.chargers.notification(charger_id, kind, payload)
            if keep is not None:
                await keep(charger_id, payload["status"])
            return {}

        return record

    table: dict[str, Handler] = {
        "BootNotification": boot_notification,
        "Heartbeat": heartbeat,
        "StatusNotification": status_notification,
        "Authorize": authorize,
        "StartTransaction": start_transaction,
        "StopTransaction": stop_transaction,
        "MeterValues": meter_values,
        "DataTransfer": data_transfer,
        "SignCertificate": sign_certificate,
    }
    table.update({kind: notification(kind) for kind in NOTIFICATIONS})
    return table
