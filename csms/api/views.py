"""Store rows as the API shows them: camelCase, as OCPP spells things."""

from __future__ import annotations

from typing import Any

import orjson

from ..connections import Connection
from ..services import Row
from ..services.energy import energy_delivered, register_wh
from ..versions import ADAPTERS

Json = dict[str, Any]


def charger(row: Row, connection: Connection | None, where: Json | None = None) -> Json:
    """`ocppVersion` is that of its live connection (null while it is not connected),
    `registeredOcppVersion` the one it must speak ("any": whichever it offers); in a
    cluster, `where` tells the node holding it (`cluster_location`)."""
    if where is not None:
        return {**charger(row, connection), **where}
    return {
        "chargerId": row["id"],
        "name": row["name"],
        "vendor": row["vendor"],
        "model": row["model"],
        "serialNumber": row["serial_number"],
        "chargeBoxSerialNumber": row["charge_box_serial"],
        "firmwareVersion": row["firmware_version"],
        "iccid": row["iccid"],
        "imsi": row["imsi"],
        "meterType": row["meter_type"],
        "meterSerialNumber": row["meter_serial"],
        "enabled": bool(row["enabled"]),
        "registration": row["registration"],
        "hasPassword": row["password_hash"] is not None,
        "securityProfile": row["security_profile"],
        "online": bool(row["online"]),
        "connected": connection is not None,
        "ocppVersion": None if connection is None else connection.adapter.dialect.version,
        "registeredOcppVersion": row["ocpp_version"] or "any",
        "bootAccepted": bool(row["boot_accepted"]),
        "lastBootAt": row["last_boot_at"],
        "connectedAt": row["connected_at"],
        "lastSeenAt": row["last_seen_at"],
        "firmwareStatus": row["firmware_status"],
        "diagnosticsStatus": row["diagnostics_status"],
        "localListVersion": row["local_list_version"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def cluster_location(where: Json) -> Json:
    """Where a cluster's charger is connected (`Cluster.locations`): `node` (null: nowhere),
    and for one held by another node, `connected` and `ocppVersion` as that node sees them."""
    if "subprotocol" not in where:
        return {"node": where["node"]}
    adapter = ADAPTERS.get(where["subprotocol"] or "")
    return {
        "node": where["node"],
        "connected": True,
        "ocppVersion": None if adapter is None else adapter.dialect.version,
    }


def connection(live: Connection | None) -> Json | None:
    if live is None:
        return None
    return {
        "subprotocol": live.subprotocol,
        "ocppVersion": live.adapter.dialect.version,
        "connectedAt": live.connected_at,
        "bootAccepted": live.boot_accepted,
    }


def connector(row: Row) -> Json:
    return {
        "evseId": row["evse_id"] or None,  # 0: a 1.6 connector, under no EVSE
        "connectorId": row["connector_id"],
        "status": row["status"],
        "errorCode": row["error_code"],
        "info": row["info"],
        "vendorId": row["vendor_id"],
        "vendorErrorCode": row["vendor_error_code"],
        "timestamp": row["status_timestamp"],
        "updatedAt": row["updated_at"],
    }


def configuration(row: Row) -> Json:
    return {
        "key": row["key"],
        "value": row["value"],
        "readonly": bool(row["readonly"]),
        "updatedAt": row["updated_at"],
    }


def reservation(row: Row) -> Json:
    return {
        "reservationId": row["reservation_id"],
        "connectorId": row["connector_id"],
        "idTag": row["id_tag"],
        "parentIdTag": row["parent_id_tag"],
        "expiryDate": row["expiry_date"],
        "status": row["status"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def charging_profile(row: Row) -> Json:
    return {
        "connectorId": row["connector_id"],
        "chargingProfileId": row["profile_id"],
        "stackLevel": row["stack_level"],
        "chargingProfilePurpose": row["purpose"],
        "transactionId": row["transaction_id"],
        "csChargingProfiles": orjson.loads(row["profile"]),
        "updatedAt": row["updated_at"],
    }


def event(row: Row) -> Json:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "detail": row["detail"],
        "payload": orjson.loads(row["payload"]) if row["payload"] else None,
        "timestamp": row["timestamp"],
    }


def id_tag(row: Row) -> Json:
    return {
        "idTag": row["id_tag"],
        "status": row["status"],
        "expiryDate": row["expiry_date"],
        "parentIdTag": row["parent_id_tag"],
        "tokenType": row["token_type"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def transaction(row: Row, latest: Row | None) -> Json:
    """`transactionId` is the CSMS's number of it, whatever the version (a 1.6 charger knows
    it by that number); a 2.0.1 station's own id is `stationTransactionId` (null for 1.6), and
    `ocppVersion` says which of the two it is. `idTag` is null for a 2.0.1 transaction that
    started with no token (TxStartPoint EVConnected, say) until one is shown."""
    station_id = row["station_transaction_id"]
    return {
        "transactionId": row["id"],
        "ocppVersion": "1.6" if station_id is None else "2.0.1",
        "stationTransactionId": station_id,
        "evseId": row["evse_id"],
        "chargingState": row["charging_state"],
        "lastSeqNo": row["last_seq_no"],
        "remoteStartId": row["remote_start_id"],
        "chargerId": row["charger_id"],
        "connectorId": row["connector_id"],
        "idTag": row["id_tag"] or None,  # "": a 2.0.1 one no token was shown for (yet)
        "authStatus": row["auth_status"],
        "status": row["status"],
        "meterStart": row["meter_start"],
        "meterStop": row["meter_stop"],
        "lastMeterValue": register_wh(latest) if latest else None,
        "energyDelivered": energy_delivered(row, latest),
        "startTimestamp": row["start_timestamp"],
        "stopTimestamp": row["stop_timestamp"],
        "stopReason": row["stop_reason"],
        "stopIdTag": row["stop_id_tag"],
        "reservationId": row["reservation_id"],
    }


def meter_value(row: Row) -> Json:
    return {
        "connectorId": row["connector_id"],
        "timestamp": row["timestamp"],
        "value": row["value"],
        "measurand": row["measurand"],
        "unit": row["unit"],
        "phase": row["phase"],
        "location": row["location"],
        "context": row["context"],
        "format": row["format"],
        "source": row["source"],
    }


def message(row: Row) -> Json:
    try:
        frame: Any = orjson.loads(row["payload"])
    except orjson.JSONDecodeError:
        frame = None
    return {
        "id": row["id"],
        "direction": row["direction"],
        "messageType": row["message_type"],
        "action": row["action"],
        "messageId": row["message_id"],
        "errorCode": row["error_code"],
        "transactionId": row["transaction_id"],
        "timestamp": row["timestamp"],
        "frame": frame,
        "raw": row["payload"] if frame is None else None,
    }


def variable(row: Row) -> Json:
    return {
        "component": row["component"],
        "componentInstance": row["component_instance"] or None,
        "evseId": row["evse_id"] or None,
        "connectorId": row["connector_id"] or None,
        "variable": row["variable"],
        "variableInstance": row["variable_instance"] or None,
        "attributeType": row["attribute"],
        "value": row["value"],
        "mutability": row["mutability"],
        "characteristics": orjson.loads(row["characteristics"]) if row["characteristics"] else None,
        "updatedAt": row["updated_at"],
    }
