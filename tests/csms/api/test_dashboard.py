"""The dashboard in a real browser (Debian's chromium, driven by playwright): it shows a
connected simulated charger; remote start from its button makes a transaction appear, remote
stop makes it go, reset answers."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from csms import CsmsApp
from simulator import ChargePointSpec, create_charge_point

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
