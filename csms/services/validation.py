"""What a person may put in the registry, checked once for the CLI and the HTTP API alike.

Each check returns the value to store (normalised where the store compares it) or raises
`InvalidField`, naming the field by its store name (each front end spells it its own way:
`--expiry`, `expiryDate`) and saying what is wrong. The charge point identity rule is the
handshake's own (the OCPP server imports it from here), so nothing is registered that could
never connect.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..store import TagStore, iso

__all__ = [
    "MIN_PASSWORD_BYTES",
    "TAG_STATUSES",
    "InvalidField",
    "UnknownParent",
    "charger_id",
    "id_tag",
    "id_tag_fields",
    "identity_problem",
    "ocpp_version",
    "parse_time",
    "password",
    "tag_fields",
    "utc_iso",
]

# OCPP 1.6 Security Whitepaper (edition 2), security profiles 1 and 2: the Basic Auth
# password (configuration key AuthorizationKey) is 16 to 20 bytes; AuthorizationKey carries
# it hex-encoded, 40 characters at most. Shorter is refused unless a lab says it wants it.
MIN_PASSWORD_BYTES = 16
ID_TAG_MAX_LENGTH = 20  # OCPP 1.6 IdToken: CiString20Type
TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")  # AuthorizationStatus, stored
# 2.0.1's IdTokenEnumType but NoAuthorization (which names no one): a tag's token type
TOKEN_TYPES = ("Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress")
# The versions a charger may be registered for (csms.versions has an adapter for each); "any"
# (stored as NULL) lets it speak whichever it offers.
OCPP_VERSIONS = ("1.6", "2.0.1")
ANY_VERSION = "any"


class InvalidField(ValueError):
    """`field` (the store's name of it) cannot take the value given, for `reason`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class UnknownParent(InvalidField):
    """A well-formed parent id tag that the registry does not hold."""


def identity_problem(identity: str, max_length: int) -> str | None:
    """What is wrong with a charge point identity, None when nothing: it must not be empty,
    be at most `max_length` characters, and hold no `:` `/` `\\` or control character."""
    if not identity:
        return "is empty"
    if len(identity) > max_length:
        return f"is longer than {max_length} characters"
    if any(ch in identity for ch in ":/\\") or any(
        unicodedata.category(ch).startswith("C") for ch in identity
    ):
        return "contains a forbidden character (: / \\ or a control character)"
    return None


def charger_id(value: str, max_length: int) -> str:
    problem = identity_problem(value, max_length)
    if problem is not None:
        raise InvalidField(
            "charger_id", f"{value!r} {problem}: the OCPP handshake would refuse that identity"
        )
    return value


def password(value: str | None, *, allow_weak: bool = False) -> str | None:
    """A Basic Auth password to store; None (or, for a lab, an empty one): no credentials."""
    if value is None:
        return None
    if len(value.encode()) < MIN_PASSWORD_BYTES and not allow_weak:
        raise InvalidField(
            "password",
            f"shorter than {MIN_PASSWORD_BYTES} bytes, the minimum the OCPP 1.6 security"
            " whitepaper sets for Basic Auth",
        )
    return value or None


def ocpp_version(value: str | None) -> str | None:
    """The OCPP version to register a charger for: one of OCPP_VERSIONS, or None for any."""
    if value is None or value == ANY_VERSION:
        return None
    if value not in OCPP_VERSIONS:
        raise InvalidField(
            "ocpp_version",
            f"{value!r} is not an OCPP version the CSMS speaks: one of"
            f" {', '.join((*OCPP_VERSIONS, ANY_VERSION))}",
        )
    return value


def parse_time(value: str) -> datetime:
    """An ISO 8601 time; a naive one counts as UTC. ValueError when it is none."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc_iso(value: str) -> str:
    """Any ISO 8601 time as the UTC text the store compares (naive times count as UTC)."""
    return iso(parse_time(value).astimezone(UTC))


def id_tag(value: str, field: str = "id_tag") -> str:
    if not 1 <= len(value) <= ID_TAG_MAX_LENGTH:
        raise InvalidField(field, f"{value!r} is not 1 to {ID_TAG_MAX_LENGTH} characters")
    return value


def _expiry_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return utc_iso(value)
    except ValueError as exc:
        raise InvalidField(
            "expiry_date", f"{value!r} is not an ISO 8601 date and time (2027-12-31T23:59:59Z)"
        ) from exc


def tag_fields(tag: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The id-tag `fields` given (store names: status, expiry_date, parent_id_tag,
    token_type) checked and normalised for tag `tag`, itself checked too; all but the
    parent's existence, which `id_tag_fields` checks as well."""
    id_tag(tag)
    checked = dict(fields)
    if "status" in checked and checked["status"] not in TAG_STATUSES:
        raise InvalidField("status", f"{checked['status']!r} is not one of {TAG_STATUSES}")
    if "expiry_date" in checked:
        checked["expiry_date"] = _expiry_date(checked["expiry_date"])
    if checked.get("token_type") not in (None, *TOKEN_TYPES):
        raise InvalidField(
            "token_type", f"{checked['token_type']!r} is not one of {', '.join(TOKEN_TYPES)}"
        )
    if checked.get("parent_id_tag"):
        id_tag(checked["parent_id_tag"], "parent_id_tag")
    elif "parent_id_tag" in checked:
        checked["parent_id_tag"] = None
    return checked


async def id_tag_fields(tags: TagStore, tag: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """`tag_fields`, and the parent must be in the registry (or be the tag itself: a group's
    own id)."""
    checked = tag_fields(tag, fields)
    parent = checked.get("parent_id_tag")
    if parent and parent != tag and await tags.get(parent) is None:
        raise UnknownParent(
            "parent_id_tag", f"{parent!r} is no id tag of the registry: add it first"
        )
    return checked
