"""A station's device model (2.0.1): assembled from its reports, kept in step with what the
CSMS read and set."""

from __future__ import annotations

from collections.abc import Iterable

from ..domain import ReportPart, Variable
from ..store import DeviceModelStore, Row
from .chargers import ChargerService


class DeviceModelService:
    def __init__(self, store: DeviceModelStore, chargers: ChargerService) -> None:
        self.store = store
        self.chargers = chargers

    async def report(self, charger_id: str, part: ReportPart) -> None:
        """Keep one part of a report; once its last part came, record the report as an event
        (Complete, or Incomplete with the seqNos of the parts never received)."""
        missing = await self.store.report_part(charger_id, part)
        if missing is None:
            return
        detail = "Incomplete" if missing else "Complete"
        record = {"requestId": part.request_id, "parts": part.seq_no + 1, "missing": missing}
        await self.chargers.add_event(charger_id, "Report", detail, record)

    async def put(self, charger_id: str, variables: Iterable[Variable]) -> None:
        """Keep values the station reported or accepted."""
        await self.store.put(charger_id, variables)

    async def variables(self, charger_id: str) -> list[Row]:
        return await self.store.variables(charger_id)
