"""The HTTP API's read latency: the routes the dashboard polls and the issue's two, one request
after another on one keep-alive connection, over loopback."""

from __future__ import annotations

import time
from typing import Any

import httpx

from .load import identity

TOKEN = "bench-api-token-0123456789"  # given to our CSMS with --api-token
CHARGER = identity("SITE", 0)  # a charger of the filled site (on an empty database: the bench's)
# (what, route): the first two are the targets'
ROUTES = (
    ("GET /api/transactions?limit=50", "/api/transactions?limit=50"),
    ("GET /api/chargers/{id}/messages?limit=100", f"/api/chargers/{CHARGER}/messages?limit=100"),
    ("dashboard: active transactions", "/api/transactions?status=Active&limit=200"),
    ("dashboard: a charger", f"/api/chargers/{CHARGER}"),
    ("dashboard: its newest messages", f"/api/chargers/{CHARGER}/messages?order=desc&limit=50"),
    ("a charger's newest starts",
     f"/api/chargers/{CHARGER}/messages?action=StartTransaction&order=desc&limit=100"),
    ("a charger's transactions", f"/api/transactions?chargerId={CHARGER}&limit=50"),
)  # fmt: skip
TARGET_ROUTES = ROUTES[:2]


async def latencies(api: str, requests: int) -> dict[str, dict[str, Any]]:
    """p50/p95/p99 (ms) of each route over `requests` requests, after 5 to warm up."""
    figures: dict[str, dict[str, Any]] = {}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=api, headers=headers, timeout=30) as client:
        for what, route in ROUTES:
            times, errors = [], 0
            for n in range(requests + 5):
                began = time.perf_counter()
                response = await client.get(route)
                elapsed = time.perf_counter() - began
                if response.status_code != 200:
                    errors += 1
                elif n >= 5:
                    times.append(elapsed * 1000)
            times.sort()
            figures[what] = {
                "route": route,
                "requests": len(times),
                "errors": errors,
                **{
                    f"p{p}_ms": round(times[min(len(times) - 1, len(times) * p // 100)], 2)
                    if times
                    else None
                    for p in (50, 95, 99)
                },
            }
    return figures
