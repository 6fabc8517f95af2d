"""A valid request, and a valid answer of a charger, for every CSMS-initiated 1.6 action."""

from __future__ import annotations

from typing import Any

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
HASH = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a" * 64,
    "issuerKeyHash": "b" * 64,
    "serialNumber": "01",
}
LATER = "2099-01-01T00:00:00Z"
PROFILE = {
    "chargingProfileId": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
    },
}

REQUESTS: dict[str, dict[str, Any]] = {
    "CancelReservation": {"reservationId": 1},
    "CertificateSigned": {"certificateChain": CERT},
    "ChangeAvailability": {"connectorId": 1, "type": "Inoperative"},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "120"},
    "ClearCache": {},
    "ClearChargingProfile": {"id": 7},
    "DataTransfer": {"vendorId": "ocpp-bench", "messageId": "ping", "data": "hello"},
    "DeleteCertificate": {"certificateHashData": HASH},
    "ExtendedTriggerMessage": {"requestedMessage": "Heartbeat"},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 3600},
    "GetConfiguration": {"key": ["HeartbeatInterval"]},
    "GetDiagnostics": {"location": "ftp://diag.example.com/upload"},
    "GetInstalledCertificateIds": {"certificateType": "CentralSystemRootCertificate"},
    "GetLocalListVersion": {},
    "GetLog": {
        "logType": "DiagnosticsLog",
        "requestId": 1,
        "log": {"remoteLocation": "https://logs.example.com/upload"},
    },
    "InstallCertificate": {"certificateType": "CentralSystemRootCertificate", "certificate": CERT},
    "RemoteStartTransaction": {"connectorId": 1, "idTag": "TAG-1"},
    "RemoteStopTransaction": {"transactionId": 1},
    "ReserveNow": {"connectorId": 1, "expiryDate": LATER, "idTag": "TAG-1", "reservationId": 1},
    "Reset": {"type": "Soft"},
    "SendLocalList": {
        "listVersion": 2,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": "TAG-1", "idTagInfo": {"status": "Accepted"}}],
    },
    "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": PROFILE},
    "SignedUpdateFirmware": {
        "requestId": 1,
        "firmware": {
            "location": "https://fw.example.com/fw.bin",
            "retrieveDateTime": LATER,
            "signingCertificate": CERT,
            "signature": "c2lnbmF0dXJl",
        },
    },
    "TriggerMessage": {"requestedMessage": "Heartbeat"},
    "UnlockConnector": {"connectorId": 1},
    "UpdateFirmware": {"location": "https://fw.example.com/fw.bin", "retrieveDate": LATER},
}

ACCEPTED = {"status": "Accepted"}
ANSWERS: dict[str, dict[str, Any]] = {
    "CancelReservation": ACCEPTED,
    "CertificateSigned": ACCEPTED,
    "ChangeAvailability": ACCEPTED,
    "ChangeConfiguration": ACCEPTED,
    "ClearCache": ACCEPTED,
    "ClearChargingProfile": ACCEPTED,
    "DataTransfer": {"status": "Accepted", "data": "pong"},
    "DeleteCertificate": ACCEPTED,
    "ExtendedTriggerMessage": ACCEPTED,
    "GetCompositeSchedule": {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-11-24T10:00:00Z",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
        },
    },
    "GetConfiguration": {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
        "unknownKey": [],
    },
    "GetDiagnostics": {"fileName": "diagnostics.zip"},
    "GetInstalledCertificateIds": {"status": "Accepted", "certificateHashData": [HASH]},
    "GetLocalListVersion": {"listVersion": 2},
    "GetLog": {"status": "Accepted", "filename": "log.zip"},
    "InstallCertificate": ACCEPTED,
    "RemoteStartTransaction": ACCEPTED,
    "RemoteStopTransaction": ACCEPTED,
    "ReserveNow": ACCEPTED,
    "Reset": ACCEPTED,
    "SendLocalList": ACCEPTED,
    "SetChargingProfile": ACCEPTED,
    "SignedUpdateFirmware": ACCEPTED,
    "TriggerMessage": ACCEPTED,
    "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {},
}
