"""A charge point built on the mobilityhouse `ocpp` library runs a session against our CSMS."""

from __future__ import annotations

import asyncio
import contextlib

from ocpp.v16 import ChargePoint, call
from websockets.asyncio.client import connect

from csms import CsmsApp


async def test_ocpp_library_charge_point_full_session(csms_app: CsmsApp) -> None:
    await csms_app.services.chargers.register("LIB-1")
    await csms_app.services.tags.upsert("LIB-TAG")
    async with connect(f"{csms_app.ocpp_url}/LIB-1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        cp = ChargePoint("LIB-1", ws)
        runner = asyncio.create_task(cp.start())
        try:
            boot = await cp.call(
                call.BootNotification(charge_point_vendor="Lib", charge_point_model="M")
            )
            assert boot.status == "Accepted"
            await cp.call(call.StatusNotification(1, "NoError", "Preparing"))
            auth = await cp.call(call.Authorize("LIB-TAG"))
            assert auth.id_tag_info["status"] == "Accepted"
            start = await cp.call(call.StartTransaction(1, "LIB-TAG", 0, "2026-11-24T10:00:00Z"))
            stop = await cp.call(
                call.StopTransaction(
                    500, "2026-11-24T10:30:00Z", start.transaction_id, id_tag="LIB-TAG"
                )
            )
            assert stop.id_tag_info["status"] == "Accepted"
        finally:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
    row = await csms_app.services.transactions.transactions.get(start.transaction_id)
    assert row is not None and (row["meter_stop"], row["status"]) == (500, "Completed")
