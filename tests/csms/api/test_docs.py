"""Swagger UI at /docs in a real browser: it renders our OpenAPI 3.1 document, offline."""

from __future__ import annotations

from playwright.async_api import Browser, Route, expect

from csms import CsmsApp

from .conftest import TOKEN


async def test_swagger_ui_lists_the_operations_offline(api_app: CsmsApp, browser: Browser) -> None:
    page = await browser.new_page()
    elsewhere: list[str] = []

    async def only_the_csms(route: Route) -> None:
        """A lab without internet: anything not served by the CSMS fails."""
        if route.request.url.startswith(api_app.api_url):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_the_csms)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{api_app.api_url}/docs?token={TOKEN}")
    operation = page.locator('.opblock-get [data-path="/api/chargers"]')
    await expect(operation).to_be_visible()
    await expect(page.locator('.opblock-put [data-path="/api/id-tags/{tag}"]')).to_be_visible()
    await expect(page.locator(".information-container .title")).to_contain_text("ocpp-bench CSMS")
    # the operation opens with its parameters, as Swagger UI renders them
    await operation.click()
    await expect(page.locator(".opblock.is-open .parameters")).to_contain_text("status")
    assert await page.locator(".errors-wrapper").count() == 0
    assert not errors
    assert not elsewhere
    await page.close()
