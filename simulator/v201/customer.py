"""Customer information of a 2.0.1 station (OCPP 2.0.1 N09, N10): what it keeps of one
customer, reported and cleared on a CustomerInformation request, told in
NotifyCustomerInformation pages (`seqNo` from 0, `tbc` on all but the last, at most 512
characters of `data` each).

What it keeps of a customer, known by idToken: the authorization cache entry, the local
list entry, and the transactions it ran with that token (the last `HISTORY`). A
customerIdentifier is matched against idToken values (of any type): this station knows its
customers by nothing else. It keeps no customer certificates (no ISO 15118 contracts), so a
request by customerCertificate finds no data. Clearing removes the cache entry and the
transactions that ended, not the local list, which only the CSMS changes (N10.FR.03); a
clear without report is still told in one NotifyCustomerInformation (N10.FR.06)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from ocppj.timestamps import iso

from ..incoming import Outcome
from .state import State201
from .topology import Transaction201

__all__ = ["CustomerOperations", "pages"]

Payload = dict[str, Any]
HISTORY = 100  # transactions remembered
PAGE = 512  # characters of data per NotifyCustomerInformation (its schema's maxLength)
NO_DATA = "No data available"
_IDENTIFIERS = ("idToken", "customerCertificate", "customerIdentifier")


def pages(lines: list[str], size: int = PAGE) -> list[str]:
    """`lines` joined by newlines into pages of at most `size` characters (a longer line
    cut); one page at least."""
    out: list[str] = []
    page = ""
    for line in lines:
        for piece in (line[i : i + size] for i in range(0, max(len(line), 1), size)):
            joined = f"{page}\n{piece}" if page else piece
            if len(joined) > size:
                out.append(page)
                joined = piece
            page = joined
    return [*out, page] if page or not out else out


class CustomerOperations:
    """Handler of CustomerInformation, and the transactions remembered for it."""

    __slots__ = ("history", "state", "station")

    def __init__(self, state: State201) -> None:
        self.state = state
        self.station = state.station
        self.history: deque[Transaction201] = deque(maxlen=HISTORY)

    def ran(self, tx: Transaction201) -> None:
        """A transaction started: remembered with its idToken."""
        if tx.id_token is not None:
            self.history.append(tx)

    async def op_CustomerInformation(self, p: Payload, outcome: Outcome) -> Payload:
        if outcome.status is not None:  # scripted (e.g. Rejected): nothing reported or cleared
            return {"status": outcome.status}
        report, clear = p["report"], p["clear"]
        named = [key for key in _IDENTIFIERS if key in p]
        if not report and not clear:  # N09.FR.07, N10.FR.07
            self.station.explain("neither report nor clear asked for")
            return {"status": "Rejected"}
        if len(named) != 1:
            self.station.explain(f"{len(named)} customer identifiers given, not one")
            return {"status": "Invalid"}
        match = _matcher(p)
        lines = list(self._lines(match))
        if clear:
            cleared = self._clear(match)
            if not report:
                lines = [f"Cleared {cleared} item(s) of customer data" if cleared else NO_DATA]
        cut = pages(lines or [NO_DATA])
        request_id = p["requestId"]

        async def send() -> None:
            await self._notify(request_id, cut)

        self.station.after_reply(send)
        return {"status": "Accepted"}

    # -- what it keeps -----------------------------------------------------------------------

    def _lines(self, match: _Match) -> Iterator[str]:
        auth = self.state.auth
        for (value, kind), info in auth.local_list.items():
            if match(value, kind):
                yield f"local authorization list: {kind} {value}, {info.get('status')}"
        for (value, kind), info in auth.cache.items():
            if match(value, kind):
                until = info.get("cacheExpiryDateTime", "-")
                yield f"authorization cache: {kind} {value}, {info.get('status')} until {until}"
        for tx in self.history:
            token = tx.id_token or {}
            if match(str(token.get("idToken")), str(token.get("type"))):
                end = f"ended ({tx.stopped_reason})" if tx.ended.is_set() else "ongoing"
                yield (
                    f"transaction {tx.transaction_id} on EVSE {tx.evse_id}: {token['type']} "
                    f"{token['idToken']}, started {iso(tx.started_at)}, {end}"
                )

    def _clear(self, match: _Match) -> int:
        """Forget the customer but for the local list; how many items went."""
        cache = self.state.auth.cache
        keys = [key for key in cache if match(*key)]
        for key in keys:
            del cache[key]
        kept = [tx for tx in self.history if not _ended_for(tx, match)]
        gone = len(self.history) - len(kept)
        self.history = deque(kept, maxlen=HISTORY)
        return len(keys) + gone

    async def _notify(self, request_id: int, cut: list[str]) -> None:
        """The pages in order (a page not delivered is only logged)."""
        for number, data in enumerate(cut):
            payload: Payload = {
                "requestId": request_id,
                "generatedAt": self.station.timestamp(),
                "seqNo": number,
                "tbc": number < len(cut) - 1,
                "data": data,
            }
            await self.station.notify("NotifyCustomerInformation", payload)


class _Match:
    """Whether an idToken (value, type) is the customer's."""

    __slots__ = ("kind", "value")

    def __init__(self, value: str | None, kind: str | None) -> None:
        self.value, self.kind = value, kind  # None value: matches nothing

    def __call__(self, value: str, kind: str) -> bool:
        return value == self.value and (self.kind is None or kind == self.kind)


def _matcher(p: Payload) -> _Match:
    token = p.get("idToken")
    if token is not None:
        return _Match(token["idToken"], token["type"])
    return _Match(p.get("customerIdentifier"), None)  # a certificate: nobody


def _ended_for(tx: Transaction201, match: _Match) -> bool:
    token = tx.id_token or {}
    mine = match(str(token.get("idToken")), str(token.get("type")))
    return mine and tx.ended.is_set()
