"""Domain services: what the CSMS does, free of OCPP wire and WebSocket details."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import CsmsConfig
from ..store import ChargerStore, Database, MessageLog, TagStore, TransactionStore
from .authorization import AuthorizationService, TagInfo
from .chargers import Admission, BootDecision, ChargerService
from .transactions import TransactionService


@dataclass
class Services:
    """Everything the wire adapter and the HTTP API call."""

    config: CsmsConfig
    db: Database
    chargers: ChargerService
    authorization: AuthorizationService
    transactions: TransactionService
    tags: TagStore
    log: MessageLog

    @classmethod
    def build(cls, db: Database, config: CsmsConfig) -> Services:
        charger_store = ChargerStore(db)
        tags = TagStore(db)
        transaction_store = TransactionStore(db)
        authorization = AuthorizationService(tags, transaction_store)
        return cls(
            config=config,
            db=db,
            chargers=ChargerService(charger_store, config),
            authorization=authorization,
            transactions=TransactionService(transaction_store, charger_store, authorization),
            tags=tags,
            log=MessageLog(db, config.log_flush_interval),
        )


__all__ = [
    "Admission",
    "AuthorizationService",
    "BootDecision",
    "ChargerService",
    "Services",
    "TagInfo",
    "TransactionService",
]
