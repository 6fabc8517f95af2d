"""Our own CSMS as a load-test target: start it as a subprocess, register the sessions' tags.

Used by the tests and `scripts/bench_locust.py`; against another CSMS, register the tags there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from csms.config import CsmsConfig
from csms.process import CsmsProcess, raise_nofile
from csms.services import Services
from csms.store.db import Database
from csms.store.tags import TagStore

__all__ = ["CsmsProcess", "charger_ids", "raise_nofile", "register_chargers", "seed_tags"]


def charger_ids(prefix: str, workers: int, count: int) -> list[str]:
    """The ids the locustfile gives: PREFIX<worker>-<n>, n from 1."""
    return [f"{prefix}{w}-{n:05d}" for w in range(workers) for n in range(1, count + 1)]


def seed_tags(db: Path, tags: Iterable[str]) -> int:
    """Register `tags` as Accepted in the CSMS database (creating it); returns how many."""

    async def work() -> int:
        database = await Database.open(db)
        try:
            store = TagStore(database)
            count = 0
            for tag in tags:
                await store.upsert(tag, status="Accepted")
                count += 1
            return count
        finally:
            await database.close()

    return asyncio.run(work())


def register_chargers(
    db: Path, ids: Iterable[str], *, password: str, security_profile: int | None = None
) -> int:
    """Register chargers with a Basic Auth password (and a security profile); returns how
    many were new. Auto-registered chargers have no password, hence profile 0/1 only."""

    async def work() -> int:
        database = await Database.open(db)
        try:
            services = Services.build(database, CsmsConfig(db_path=db))
            created = 0
            for charger in ids:
                created += bool(
                    await services.chargers.register(
                        charger, password=password, security_profile=security_profile
                    )
                )
            return created
        finally:
            await database.close()

    return asyncio.run(work())
