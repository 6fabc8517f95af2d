"""The dashboard in a real browser (Debian's chromium, driven by playwright): it shows a
connected simulated charger; remote start from its button makes a transaction appear, remote
stop makes it go, reset answers."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from csms import CsmsApp
from simulator import ChargePointSpec, EvseSpec, create_charge_point

from .conftest import TOKEN


async def test_dashboard_remote_start(api_app: CsmsApp, browser: Browser) -> None:
    await api_app.services.chargers.register("SIM-1", name="Bay 1")
    await api_app.services.tags.upsert("TAG-ACCEPTED")
    spec = ChargePointSpec(
        "SIM-1", boot_retry_s=0.1, call_timeout_s=3, configuration={"MeterValueSampleInterval": "1"}
    )
    async with create_charge_point(spec, api_app.ocpp_url) as charge_point:
        await charge_point.plug_in(1)
        page = await browser.new_page()
        await page.goto(f"{api_app.api_url}/?token={TOKEN}")
        charger = page.locator('#chargers tr[data-charger="SIM-1"][data-connected="true"]')
        await expect(charger).to_be_visible()
        await expect(charger.locator('[data-connector="1"]')).to_contain_text("Preparing")
        await expect(page.locator("#detail-title")).to_contain_text("SIM-1")
        await page.get_by_test_id("remote-start-1").click()
        await expect(page.locator("#result")).to_contain_text('"status":"Accepted"')
        row = page.locator('#transactions tr[data-charger="SIM-1"]')
        await expect(row).to_be_visible()
        await expect(row).to_contain_text("TAG-ACCEPTED")
        await expect(charger.locator('[data-connector="1"]')).to_contain_text("Charging")
        await expect(page.locator("#messages")).to_contain_text("StartTransaction")
        energy = row.locator(".energy")
        await expect(energy).to_contain_text("kWh")
        transaction_id = await row.get_attribute("data-transaction")
        await page.get_by_test_id(f"remote-stop-{transaction_id}").click()
        await expect(row).to_have_count(0)
        await expect(charger.locator('[data-connector="1"]')).to_contain_text("Finishing")
        await page.get_by_test_id("reset-soft").click()
        await expect(page.locator("#result")).to_contain_text("Soft reset:")
        # the token is kept for the next visit, and dropped from the address bar
        assert await page.evaluate("localStorage.getItem('ocppBenchToken')") == TOKEN
        assert "token=" not in page.url
        await page.close()


async def test_dashboard_shows_a_1_6_charger_and_a_2_0_1_station_side_by_side(
    api_app: CsmsApp, browser: Browser
) -> None:
    """Both versions on one CSMS at once: each with its version, the 2.0.1 station's
    connectors under their EVSEs, and a transaction of each started and stopped from the page
    (the friendly operations, in the charger's own version)."""
    await api_app.services.chargers.register("SIM-16", name="Old bay")
    await api_app.services.chargers.register("SIM-201", name="New bay")
    await api_app.services.chargers.register("SIM-OFF", ocpp_version="2.0.1")  # never connects
    await api_app.services.tags.upsert("TAG-ACCEPTED")
    await api_app.services.tags.upsert("TAG-16")
    sampled = {"MeterValueSampleInterval": "1"}  # 2.0.1: SampledDataCtrlr.TxUpdatedInterval
    old = ChargePointSpec("SIM-16", boot_retry_s=0.1, call_timeout_s=3, configuration=sampled)
    new = ChargePointSpec(
        "SIM-201",
        ocpp_version="2.0.1",
        evses=[EvseSpec(connectors=2), EvseSpec()],
        boot_retry_s=0.1,
        call_timeout_s=3,
        configuration=sampled,
    )
    async with (
        create_charge_point(old, api_app.ocpp_url) as charger,
        create_charge_point(new, api_app.ocpp_url) as station,
    ):
        await charger.plug_in(1)
        await station.plug_in(1)  # EVSE 1, its connector 1
        page = await browser.new_page()
        await page.goto(f"{api_app.api_url}/?token={TOKEN}&charger=SIM-201")
        await expect(page.locator("#summary")).to_have_text(
            "2 of 3 chargers connected (1 on 1.6, 1 on 2.0.1)"
        )
        offline = page.locator('#chargers tr[data-charger="SIM-OFF"][data-connected="false"]')
        registered = offline.locator(".ocpp-version .muted")
        await expect(registered).to_have_text("2.0.1")
        await expect(registered).to_have_attribute(
            "title", "not connected; registered for OCPP 2.0.1"
        )
        row16 = page.locator('#chargers tr[data-charger="SIM-16"][data-ocpp-version="1.6"]')
        row201 = page.locator('#chargers tr[data-charger="SIM-201"][data-ocpp-version="2.0.1"]')
        await expect(row16.locator(".ocpp-version")).to_have_text("1.6")
        await expect(row201.locator(".ocpp-version")).to_have_text("2.0.1")
        await expect(row16.locator('[data-connector="1"]')).to_contain_text("Preparing")
        await expect(row16.locator("[data-evse]")).to_have_count(0)  # 1.6: no EVSEs
        evse1, evse2 = row201.locator('[data-evse="1"]'), row201.locator('[data-evse="2"]')
        await expect(evse1).to_contain_text("EVSE 1")
        await expect(evse1.locator('[data-connector="1"]')).to_have_text("1: Occupied")
        # one connector of an EVSE at a time: its other one is Unavailable while this is in
        await expect(evse1.locator('[data-connector="2"]')).to_have_text("2: Unavailable")
        await expect(evse2.locator('[data-connector="1"]')).to_have_text("1: Available")

        # the 2.0.1 station: its EVSEs in the detail, a remote start on EVSE 1
        await expect(page.locator("#detail-title")).to_have_text("SIM-201 (connected, OCPP 2.0.1)")
        detail = page.locator("#connectors tbody tr")
        await expect(detail).to_have_count(3)
        second = page.locator('#connectors tr[data-evse="1"][data-connector="2"]')
        await expect(second).to_contain_text("Unavailable")
        await page.get_by_test_id("remote-start-1-1").click()
        await expect(page.locator("#result")).to_have_text(
            'Remote start on EVSE 1 connector 1: {"status":"Accepted"}'
        )
        tx201 = page.locator('#transactions tr[data-charger="SIM-201"][data-ocpp-version="2.0.1"]')
        await expect(tx201).to_be_visible()
        view = station.transaction(1)
        assert view is not None
        await expect(tx201.locator(".station-tx")).to_have_text(str(view.transaction_id))
        await expect(tx201.locator(".tx-evse")).to_have_text("1")
        await expect(tx201).to_contain_text("TAG-ACCEPTED")
        await expect(tx201).to_contain_text("Charging")  # its chargingState
        # energy from its TransactionEvents' meter values, once one has more than the start
        await expect(tx201.locator(".energy")).to_contain_text("kWh")
        await expect(tx201.locator(".energy")).not_to_have_text("0.000 kWh")
        # availability in 2.0.1's words: EVSE 2's connector, by its EVSE
        await page.get_by_test_id("inoperative-2-1").click()
        await expect(page.locator("#result")).to_have_text(
            'EVSE 2 connector 1 inoperative: {"status":"Accepted"}'
        )
        await expect(evse2.locator('[data-connector="1"]')).to_have_text("1: Unavailable")
        await page.get_by_test_id("operative-2-1").click()
        await expect(evse2.locator('[data-connector="1"]')).to_have_text("1: Available")

        # the 1.6 charger beside it: selected from the list, a remote start on connector 1
        await row16.click()
        await expect(page.locator("#detail-title")).to_have_text("SIM-16 (connected, OCPP 1.6)")
        # a tag of its own: TAG-ACCEPTED charges at SIM-201, so here it would be ConcurrentTx
        await page.locator("#id-tag").fill("TAG-16")
        await page.get_by_test_id("remote-start-1").click()
        await expect(page.locator("#result")).to_have_text(
            'Remote start on 1: {"status":"Accepted"}'
        )
        tx16 = page.locator('#transactions tr[data-charger="SIM-16"][data-ocpp-version="1.6"]')
        await expect(tx16).to_be_visible()
        await expect(tx16.locator(".station-tx")).to_have_count(0)
        await expect(tx16.locator(".tx-evse")).to_have_text("\u2014")
        await expect(tx16).to_contain_text("TAG-16")
        await expect(tx16.locator(".energy")).to_contain_text("kWh")
        await expect(page.locator("#transactions tbody tr")).to_have_count(2)  # at once
        await expect(row16.locator('[data-connector="1"]')).to_contain_text("Charging")

        # each stopped from its row, in its own version's words
        for row in (tx16, tx201):
            number = await row.get_attribute("data-transaction")
            await page.get_by_test_id(f"remote-stop-{number}").click()
            await expect(row).to_have_count(0)
        await expect(page.locator("#result")).to_contain_text('{"status":"Accepted"}')
        await page.close()
    stopped = await api_app.services.transactions.find(status="Completed")
    assert {(t["charger_id"], t["stop_reason"]) for t in stopped} == {
        ("SIM-16", "Remote"),
        ("SIM-201", "Remote"),
    }
