"""What happened: `/api/transactions...` (with a transaction's messages) and
`/api/chargers/{id}/messages`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from ..services.validation import utc_iso
from . import views
from .deps import Backend, Csms
from .errors import ApiError

router = APIRouter(prefix="/api", tags=["records"])

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/transactions", summary="List transactions, newest first")
async def list_transactions(
    csms: Csms,
    chargerId: str | None = None,
    status: Literal["Active", "Completed"] | None = None,
    since: Annotated[str | None, Query(description="start time >= (ISO 8601)")] = None,
    until: Annotated[str | None, Query(description="start time < (ISO 8601)")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    times: dict[str, str | None] = {"since": since, "until": until}
    for name, value in times.items():
        try:
            times[name] = utc_iso(value) if value else None
        except ValueError as exc:
            detail = f"{name} must be an ISO 8601 time: {exc}"
            raise ApiError(422, "InvalidField", detail, field=name) from exc
    since, until = times["since"], times["until"]
    transactions = csms.services.transactions
    rows = await transactions.find(
        charger_id=chargerId, status=status, since=since, until=until, limit=limit, offset=offset
    )
    active = [row["id"] for row in rows if row["status"] == "Active"]
    latest = await transactions.latest_registers(active)
    items = [views.transaction(row, latest.get(row["id"])) for row in rows]
    return {"items": items, "limit": limit, "offset": offset}


async def _transaction(csms: Backend, transaction_id: int) -> dict[str, Any]:
    row = await csms.services.transactions.get(transaction_id)
    if row is None:
        raise ApiError(
            404,
            "UnknownTransaction",
            f"Unknown transaction {transaction_id}",
            transactionId=transaction_id,
        )
    return row


@router.get("/transactions/{transaction_id}", summary="A transaction with its meter values")
async def get_transaction(csms: Csms, transaction_id: int) -> dict[str, Any]:
    transactions = csms.services.transactions
    row = await _transaction(csms, transaction_id)
    latest = (await transactions.latest_registers([transaction_id])).get(transaction_id)
    samples = await transactions.samples(transaction_id)
    missing = []
    if row["station_transaction_id"] is not None:
        missing = await transactions.missing_events(transaction_id)
    return {
        **views.transaction(row, latest),
        "missingSeqNos": missing,
        "meterValues": [views.meter_value(sample) for sample in samples],
    }


@router.get("/transactions/{transaction_id}/messages", summary="A transaction's messages")
async def transaction_messages(
    csms: Csms,
    transaction_id: int,
    order: Literal["asc", "desc"] = "asc",
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The frames of the message log linked to the transaction, both ways: for 1.6 its
    StartTransaction, MeterValues, StopTransaction and the CSMS's calls naming it; for
    2.0.1 its TransactionEvents and the calls naming its station id."""
    await _transaction(csms, transaction_id)
    rows = await csms.services.log.of_transaction(
        transaction_id, limit=limit, offset=offset, newest_first=order == "desc"
    )
    return {"items": [views.message(row) for row in rows], "limit": limit, "offset": offset}


@router.get("/chargers/{charger_id}/messages", summary="A charger's message log")
async def list_messages(
    csms: Csms,
    charger_id: str,
    action: str | None = None,
    direction: Literal["in", "out"] | None = None,
    order: Literal["asc", "desc"] = "asc",
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    if await csms.services.chargers.get(charger_id) is None:
        raise ApiError(404, "UnknownCharger", f"Unknown charger {charger_id}", chargerId=charger_id)
    rows = await csms.services.log.query(
        charger_id,
        action=action,
        direction=direction,
        limit=limit,
        offset=offset,
        newest_first=order == "desc",
    )
    return {"items": [views.message(row) for row in rows], "limit": limit, "offset": offset}


@router.get("/chargers/{charger_id}/events", summary="A charger's events, oldest first")
async def list_events(
    csms: Csms,
    charger_id: str,
    kind: Annotated[
        str | None,
        Query(description="e.g. LogStatusNotification, CustomerInformation, GetLogRequested"),
    ] = None,
    last: Limit = 100,
) -> dict[str, Any]:
    """What the charger told (notifications, assembled reports) and what the CSMS asked of it,
    the newest `last` of them."""
    chargers = csms.services.chargers
    if await chargers.get(charger_id) is None:
        raise ApiError(404, "UnknownCharger", f"Unknown charger {charger_id}", chargerId=charger_id)
    rows = await chargers.events(charger_id, kind, last=last)
    return {"items": [views.event(row) for row in rows], "last": last}
