"""Id-tag authorization: the registry's verdict on a tag, as OCPP's idTagInfo means it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from ..config import CsmsConfig
from ..store import TagStore
from .validation import parse_time

log = logging.getLogger(__name__)

ACCEPTED = "Accepted"


@dataclass(frozen=True, slots=True)
class TagInfo:
    status: str  # Accepted | Blocked | Expired | Invalid | ConcurrentTx
    expiry_date: str | None = None
    parent_id_tag: str | None = None
    parent_token_type: str | None = None  # the group's 2.0.1 token type, if registered


def is_past(timestamp: str) -> bool:
    return parse_time(timestamp) <= datetime.now(UTC)


def _readable(timestamp: str) -> bool:
    try:
        is_past(timestamp)
    except ValueError:
        return False
    return True


class AuthorizationService:
    def __init__(self, tags: TagStore, config: CsmsConfig) -> None:
        self.tags = tags
        self.config = config

    async def check(self, id_tag: str, token_type: str | None = None) -> TagInfo:
        """The tag's own status: unknown → Invalid (Accepted with `accept_any_tag`); the
        stored status if not Accepted; past expiry → Expired. Never ConcurrentTx: OCPP 1.6
        keeps that status for StartTransaction.conf, where the transaction store decides it
        atomically (free vend included: one tag, one transaction at a time).

        Free vend accepts the tags the registry does not know; a tag it does know keeps its
        verdict (Blocked, Expired, Invalid, a past expiry date), as an operator who stored
        one meant it, so negative cases still work on a free-vend lab CSMS.

        A 2.0.1 token is its value and its `token_type`: a tag registered with a type is
        not one of another type (Invalid), one registered without matches any."""
        row = await self.tags.get(id_tag)
        if row is None:
            return TagInfo(ACCEPTED if self.config.accept_any_tag else "Invalid")
        if token_type and row["token_type"] and token_type != row["token_type"]:
            return TagInfo("Invalid")
        info = TagInfo(
            row["status"], row["expiry_date"], row["parent_id_tag"], row["parent_token_type"]
        )
        if info.expiry_date and not _readable(info.expiry_date):
            # stored before registration checked its dates, or by hand: never an InternalError
            log.warning(
                "id tag %s has an unreadable expiry date %r: answered Invalid",
                id_tag,
                info.expiry_date,
            )
            return TagInfo("Invalid")
        if info.status != ACCEPTED:
            return info
        if info.expiry_date and is_past(info.expiry_date):
            return replace(info, status="Expired")
        return info
