"""What stations keep of their customers (2.0.1 N09, N10): each NotifyCustomerInformation
part kept as the charger's event, and once a request's last part came, the parts received
since its previous report joined in seqNo order into one CustomerInformation event
(Complete, or Incomplete with the seqNos never received)."""

from __future__ import annotations

from typing import Any

import orjson

from ..domain import CustomerPart
from .chargers import ChargerService

PART = "NotifyCustomerInformation"  # the event of one part
REPORT = "CustomerInformation"  # the event of a whole report


class CustomerService:
    def __init__(self, chargers: ChargerService) -> None:
        self.chargers = chargers

    async def part(self, charger_id: str, part: CustomerPart) -> None:
        record = {
            "requestId": part.request_id,
            "seqNo": part.seq_no,
            "tbc": part.more,
            "generatedAt": part.generated_at,
            "data": part.data,
        }
        await self.chargers.add_event(charger_id, PART, None, record)
        if part.more:
            return
        parts = await self._parts_since_last_report(charger_id, part.request_id)
        data = "".join(parts[number] for number in sorted(parts))
        missing = [number for number in range(part.seq_no) if number not in parts]
        report = {
            "requestId": part.request_id,
            "parts": len(parts),
            "missing": missing,
            "generatedAt": part.generated_at,
            "data": data,
        }
        detail = "Incomplete" if missing else "Complete"
        await self.chargers.add_event(charger_id, REPORT, detail, report)

    async def _parts_since_last_report(self, charger_id: str, request_id: int) -> dict[int, str]:
        """seqNo -> data of the request's parts after its last report (a retried part once)."""
        after = 0
        for row in await self.chargers.events(charger_id, REPORT):
            if _payload(row)["requestId"] == request_id:
                after = row["id"]
        parts: dict[int, str] = {}
        for row in await self.chargers.events(charger_id, PART):
            payload = _payload(row)
            if row["id"] > after and payload["requestId"] == request_id:
                parts.setdefault(payload["seqNo"], payload["data"])
        return parts


def _payload(row: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(row["payload"])
    return loaded
