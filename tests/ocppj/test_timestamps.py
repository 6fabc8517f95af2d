"""OCPP date-times: what we write, and what we read from peers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ocppj.timestamps import iso, normal, now, parse


def test_we_write_utc_with_milliseconds_and_a_z() -> None:
    moment = datetime(2026, 12, 2, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso(moment) == "2026-12-02T10:00:00.123Z"
    assert iso(datetime(2026, 12, 2, 10, 0)) == "2026-12-02T10:00:00.000Z"  # naive: UTC
    assert parse(now()).tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-02T10:00:00Z",
        "2026-12-02t10:00:00z",
        "2026-12-02T10:00:00.000+00:00",
        "2026-12-02T11:00:00+01:00",
        "2026-12-02T10:00:00",
        "2026-12-02T10:00:00.000000001Z"[:-4] + "Z",
    ],
)
def test_we_read_every_form_peers_send(text: str) -> None:
    assert parse(text) == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert normal(text) == "2026-12-02T10:00:00.000Z"


@pytest.mark.parametrize("text", ["tomorrow", "2027-13-45T00:00:00Z", "", "2026"])
def test_what_is_not_a_date_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)
