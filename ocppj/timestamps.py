"""OCPP date-times, written and read in one place.

OCPP sends RFC 3339 date-times. We write UTC with milliseconds and a Z
(`2026-12-02T10:00:00.123Z`), and read what peers send: a Z or an offset, a lower-case t or z
(RFC 3339 allows them), any number of fraction digits, and a time with no zone as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """`moment` as an OCPP date-time: UTC, milliseconds, Z (a naive moment counts as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> str:
    """The current time as an OCPP date-time."""
    return iso(datetime.now(UTC))


def parse(text: str) -> datetime:
    """An OCPP (RFC 3339) date-time as an aware datetime; ValueError when it is none."""
    if not isinstance(text, str) or len(text) < 10:
        raise ValueError(f"not a date-time: {text!r}")
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    if len(text) > 10 and text[10] == "t":
        text = text[:10] + "T" + text[11:]
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def normal(text: str) -> str:
    """Any date-time a peer sent, written as we write them (comparable as text)."""
    return iso(parse(text))
