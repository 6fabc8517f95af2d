"""Dialects: each OCPP version's schemas and error spellings, from the `ocpp` package."""

from __future__ import annotations

import pytest

from ocppj import DIALECTS, KNOWN, V16, V201
from ocppj.errors import OccurenceConstraintViolation, OcppError


def test_each_version_names_its_actions_without_schema_suffixes() -> None:
    assert {"Authorize", "StartTransaction", "Reset"} <= V16.actions
    assert {"Authorize", "TransactionEvent", "NotifyReport", "GetVariables"} <= V201.actions
    for dialect in (V16, V201):
        assert not any(a.endswith(("Request", "Response")) for a in dialect.actions), dialect
    assert "StartTransaction" not in V201.actions and "TransactionEvent" not in V16.actions


def test_a_2_0_1_payload_is_checked_against_the_2_0_1_schema_both_ways() -> None:
    boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    V201.validate("BootNotification", boot)
    V201.validate(
        "BootNotification",
        {"currentTime": "2026-12-02T10:00:00Z", "interval": 60, "status": "Accepted"},
        response=True,
    )
    with pytest.raises(OccurenceConstraintViolation) as missing:
        V201.validate("BootNotification", {"chargingStation": boot["chargingStation"]})
    assert "reason" in missing.value.description
    with pytest.raises(OcppError):
        V201.validate("BootNotification", {"status": "Accepted"}, response=True)


def test_2_0_1_spells_two_error_codes_anew() -> None:
    assert V201.wire_code("OccurenceConstraintViolation") == "OccurrenceConstraintViolation"
    assert V201.wire_code("FormationViolation") == "FormatViolation"
    assert V16.wire_code("OccurenceConstraintViolation") == "OccurenceConstraintViolation"
    assert V201.wire_code("NotImplemented") == "NotImplemented"


def test_the_spoken_versions_are_offered_at_the_handshake_newest_first() -> None:
    assert list(DIALECTS) == ["ocpp2.0.1", "ocpp1.6"]
    assert set(KNOWN) == {"ocpp1.6", "ocpp2.0.1"}
