"""The device model as the CSMS reads and sets it (OCPP 2.0.1 B05-B08): GetVariables and
SetVariables, item by item, within ItemsPerMessage and BytesPerMessage; GetBaseReport and
GetReport, answered at once and then reported in NotifyReport pages (`seqNo` from 0, `tbc`
on all but the last), each within the GetReport limits."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ocppj import RpcError
from ocppj.errors import FormationViolation, OccurenceConstraintViolation

from ..behaviour import Services
from ..errors import NotConnected
from ..incoming import Outcome
from .device_model import DeviceModel
from .state import State201
from .variables import RO, Variable

__all__ = ["ReportOperations", "pages", "select", "send_pages"]

log = logging.getLogger("simulator")
Payload = dict[str, Any]
BASES: dict[str, Callable[[Variable], bool]] = {
    "FullInventory": lambda var: True,
    "ConfigurationInventory": lambda var: var.mutability != RO,
    "SummaryInventory": lambda var: var.summary,
}


def _size(payload: Payload) -> int:
    return len(json.dumps(payload, separators=(",", ":")).encode())


def _check_limits(model: DeviceModel, action: str, items: Sequence[Any], p: Payload) -> None:
    """B05/B06: over ItemsPerMessage, OccurrenceConstraintViolation; over BytesPerMessage,
    FormatViolation."""
    most = model.get_int(f"DeviceDataCtrlr.ItemsPerMessage[{action}]")
    if len(items) > most:
        raise OccurenceConstraintViolation(f"{len(items)} items: ItemsPerMessage is {most}")
    size, limit = _size(p), model.get_int(f"DeviceDataCtrlr.BytesPerMessage[{action}]")
    if size > limit:
        raise FormationViolation(f"{size} bytes: BytesPerMessage is {limit}")


def _matches(var: Variable, wanted: Mapping[str, Any]) -> bool:
    component = wanted["component"]
    if component["name"].lower() != var.component.lower() or component.get("instance"):
        return False
    evse = component.get("evse")
    if evse is not None and (
        evse["id"] != var.evse or ("connectorId" in evse and evse["connectorId"] != var.connector)
    ):
        return False
    variable = wanted.get("variable")
    return variable is None or (
        variable["name"].lower() == var.name.lower()
        and (variable.get("instance") or "").lower() == (var.instance or "").lower()
    )


def select(
    model: DeviceModel,
    wanted: Iterable[Mapping[str, Any]] | None,
    criteria: Iterable[str] | None,
) -> list[Variable]:
    """The variables a GetReport asks for: those named (a component alone: all of its, on
    every EVSE when none is given), of components with a criterion variable (Active,
    Available, Enabled, Problem) set true."""
    chosen = list(model.variables)
    wanted = list(wanted or [])
    if wanted:
        chosen = [var for var in chosen if any(_matches(var, w) for w in wanted)]
    names = {c.lower() for c in criteria or []}
    if names:
        flagged = {
            (var.component, var.evse, var.connector)
            for var in model.variables
            if var.name.lower() in names and model.value(var).lower() == "true"
        }
        chosen = [var for var in chosen if (var.component, var.evse, var.connector) in flagged]
    return chosen


def pages(data: list[Payload], items: int, size: int) -> list[list[Payload]]:
    """`data` cut into pages of at most `items` entries and about `size` bytes (a page
    holds one entry at least)."""
    out: list[list[Payload]] = []
    page: list[Payload] = []
    used = 0
    for entry in data:
        length = _size(entry) + 1
        if page and (len(page) >= items or used + length > size):
            out.append(page)
            page, used = [], 0
        page.append(entry)
        used += length
    if page:
        out.append(page)
    return out


class ReportOperations:
    """Handlers (`op_<Action>`) of the device model's operations."""

    __slots__ = ("state", "station")

    ENVELOPE = 200  # bytes of a NotifyReport beside its reportData

    def __init__(self, state: State201) -> None:
        self.state = state
        self.station = state.station

    async def op_GetVariables(self, p: Payload, outcome: Outcome) -> Payload:
        model = self.state.model
        items = p["getVariableData"]
        _check_limits(model, "GetVariables", items, p)
        return {"getVariableResult": [model.get_variable(item) for item in items]}

    async def op_SetVariables(self, p: Payload, outcome: Outcome) -> Payload:
        model = self.state.model
        items = p["setVariableData"]
        _check_limits(model, "SetVariables", items, p)
        results = []
        for item in items:
            result, _ = model.set_variable(item)
            results.append(result)
        return {"setVariableResult": results}

    async def op_GetBaseReport(self, p: Payload, outcome: Outcome) -> Payload:
        keep = BASES.get(p["reportBase"])
        if keep is None:
            return {"status": "NotSupported"}
        chosen = [var for var in self.state.model.variables if keep(var)]
        return self._report(p["requestId"], chosen)

    async def op_GetReport(self, p: Payload, outcome: Outcome) -> Payload:
        chosen = select(self.state.model, p.get("componentVariable"), p.get("componentCriteria"))
        return self._report(p["requestId"], chosen)

    def _report(self, request_id: int, chosen: list[Variable]) -> Payload:
        if not chosen:
            return {"status": "EmptyResultSet"}
        model = self.state.model
        data = [model.report_data(var) for var in chosen]
        limit = model.get_int("DeviceDataCtrlr.BytesPerMessage[GetReport]") - self.ENVELOPE
        cut = pages(data, model.get_int("DeviceDataCtrlr.ItemsPerMessage[GetReport]"), limit)

        async def send() -> None:
            await self.notify_report(request_id, cut)

        self.station.after_reply(send)
        return {"status": "Accepted"}

    async def notify_report(self, request_id: int, cut: list[list[Payload]]) -> None:
        """The pages in order; a page not delivered ends the report."""

        def page(number: int) -> Payload:
            return {
                "requestId": request_id,
                "generatedAt": self.station.timestamp(),
                "seqNo": number,
                "reportData": cut[number],
            }

        await send_pages(self.station, "NotifyReport", len(cut), page)


async def send_pages(
    station: Services, action: str, count: int, page: Callable[[int], Payload]
) -> None:
    """`count` CALLs of `action`, `page(n)` each with `tbc` on all but the last, in order; a
    page not delivered ends them."""
    for number in range(count):
        payload = {**page(number), "tbc": number < count - 1}
        try:
            await station.call(action, payload)
        except (RpcError, NotConnected) as exc:
            log.info("%s: %s %d not delivered: %s", station.identity, action, number, exc)
            return
