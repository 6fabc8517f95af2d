"""Domain services: what the CSMS does, free of OCPP wire and WebSocket details."""

from __future__ import annotations

from dataclasses import dataclass

from ..certificates import ChargePointCa
from ..config import CsmsConfig
from ..store import (
    ChargerStore,
    ChargingProfileStore,
    Database,
    DeviceModelStore,
    MessageLog,
    ReservationStore,
    Row,
    SettingsStore,
    TagStore,
    TransactionEventStore,
    TransactionStore,
)
from .authorization import AuthorizationService, TagInfo
from .certificates import CertificateService
from .chargers import Admission, BootDecision, ChargerService
from .customers import CustomerService
from .device_model import DeviceModelService
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
    certificates: CertificateService
    reservations: ReservationStore  # what the CSMS asked of chargers and they accepted
    charging_profiles: ChargingProfileStore
    device_model: DeviceModelService  # 2.0.1 stations' components and variables
    customers: CustomerService  # what 2.0.1 stations reported of their customers
    settings: SettingsStore  # what the nodes on one database share (the API token)

    @classmethod
    def build(cls, db: Database, config: CsmsConfig) -> Services:
        """ValueError when the configured charge point CA cannot be read."""
        charger_store = ChargerStore(db)
        tags = TagStore(db)
        transaction_store = TransactionStore(db)
        authorization = AuthorizationService(tags, config)
        chargers = ChargerService(charger_store, config)
        ca = None
        if config.cp_ca_cert is not None:
            ca = ChargePointCa.load(config.cp_ca_cert, config.cp_ca_key)
        return cls(
            config=config,
            db=db,
            chargers=chargers,
            authorization=authorization,
            transactions=TransactionService(
                transaction_store, charger_store, authorization, TransactionEventStore(db)
            ),
            tags=tags,
            log=MessageLog(db, config.log_flush_interval),
            certificates=CertificateService(chargers, ca),
            reservations=ReservationStore(db),
            charging_profiles=ChargingProfileStore(db),
            device_model=DeviceModelService(DeviceModelStore(db), chargers),
            customers=CustomerService(chargers),
            settings=SettingsStore(db),
        )


__all__ = [
    "Admission",
    "AuthorizationService",
    "BootDecision",
    "CertificateService",
    "ChargerService",
    "CustomerService",
    "DeviceModelService",
    "Row",
    "Services",
    "TagInfo",
    "TransactionService",
]
