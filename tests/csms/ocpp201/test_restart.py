"""What a 2.0.1 station told is kept across a restart of the CSMS: a retry after the restart
is still recognised, and the device model is still there."""

from __future__ import annotations

from pathlib import Path

from csms import CsmsApp
from tests.conftest import csms_config

from .station import NOW, Station, energy, event, token

REPORT = {
    "requestId": 1,
    "generatedAt": NOW,
    "seqNo": 0,
    "reportData": [
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
            "variableAttribute": [{"value": "300", "mutability": "ReadWrite"}],
            "variableCharacteristics": {"dataType": "integer", "supportsMonitoring": False},
        }
    ],
}


async def test_transactions_and_device_model_survive_a_restart(tmp_path: Path) -> None:
    config = csms_config(tmp_path)
    started = event("Started", 0, "TX-R", idToken=token("CARD"), meterValue=energy(5))
    async with CsmsApp(config) as app:
        await app.services.chargers.register("CS-1")
        await app.services.tags.upsert("CARD")
        async with await Station.connect(f"{app.ocpp_url}/CS-1") as station:
            await station.boot()
            await station.result("TransactionEvent", started)
            await station.result("NotifyReport", REPORT)
    async with CsmsApp(config) as app:
        async with await Station.connect(f"{app.ocpp_url}/CS-1") as station:
            await station.boot()
            again = await station.result("TransactionEvent", started)
            assert again == {"idTokenInfo": {"status": "Accepted"}}
            stopped = {"stoppedReason": "Local"}
            ended = event("Ended", 1, "TX-R", meterValue=energy(50), info=stopped)
            await station.result("TransactionEvent", ended)
        rows = await app.services.transactions.find()
        assert [(r["station_transaction_id"], r["status"], r["meter_stop"]) for r in rows] == [
            ("TX-R", "Completed", 50)
        ]
        variables = await app.services.device_model.variables("CS-1")
        assert [(v["component"], v["variable"], v["value"]) for v in variables] == [
            ("OCPPCommCtrlr", "HeartbeatInterval", "300")
        ]
        reports = await app.services.chargers.events("CS-1", "Report")
        assert [r["detail"] for r in reports] == ["Complete"]
