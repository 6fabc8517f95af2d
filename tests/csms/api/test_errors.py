"""Every API error has the documented shape `{"error", "detail", ...}`: FastAPI's request
validation, Starlette's unknown route and method, and a bug of ours included."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from csms import CsmsApp


def shaped(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert isinstance(body["detail"], str) and body["detail"]
    return body


async def test_a_body_that_breaks_the_model_is_an_invalid_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put("/api/id-tags/X", json={"idTag": "X", "status": "Accepted"})
    body = shaped(response, 422, "InvalidRequest")
    assert body["errors"] == [
        {"location": "body", "field": "idTag", "message": "Extra inputs are not permitted"}
    ]
    assert body["detail"] == "idTag: Extra inputs are not permitted"
    status = await client.put("/api/id-tags/X", json={"status": "Happy"})
    assert shaped(status, 422, "InvalidRequest")["errors"][0]["field"] == "status"


async def test_a_body_that_is_no_json_and_a_bad_query_are_invalid_requests(
    client: httpx.AsyncClient,
) -> None:
    garbage = await client.post(
        "/api/chargers", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert shaped(garbage, 422, "InvalidRequest")["errors"][0]["location"] == "body"
    limit = shaped(await client.get("/api/chargers", params={"limit": 0}), 422, "InvalidRequest")
    assert limit["errors"][0]["location"] == "query"
    assert limit["errors"][0]["field"] == "limit"
    assert limit["detail"].startswith("limit: ")


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    body = shaped(await client.get("/api/nope"), 404, "NotFound")
    assert body["detail"] == "No route GET /api/nope"
    method = await client.delete("/api/id-tags")
    body = shaped(method, 405, "MethodNotAllowed")
    assert set(body["allowed"]) == {"GET", "POST"}
    assert {m.strip() for m in method.headers["Allow"].split(",")} == {"GET", "POST"}


async def test_a_bug_of_ours_is_an_internal_error_in_the_same_shape(
    api_app: CsmsApp, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(**_: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api_app.services.tags, "find", broken)
    body = shaped(await client.get("/api/id-tags"), 500, "InternalError")
    assert "a bug" not in body["detail"]  # internals stay in the CSMS's log


async def test_a_refused_value_names_its_field(client: httpx.AsyncClient) -> None:
    since = await client.get("/api/transactions", params={"since": "yesterday"})
    assert shaped(since, 422, "InvalidField")["field"] == "since"
    expiry = await client.put("/api/id-tags/X", json={"expiryDate": "2027-13-45"})
    assert shaped(expiry, 422, "InvalidField")["field"] == "expiryDate"
