"""The heap keeper: freezes long-lived objects, thaws and collects after connection churn."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from csms.connections import ConnectionRegistry
from csms.heap import HeapKeeper


class Node:
    """A cycle: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_cycles_frozen_wait_until_enough_connections_closed() -> None:
    registry = ConnectionRegistry()
    keeper = HeapKeeper(registry, thaw_after=10)
    node = Node()
    alive = weakref.ref(node)
    keeper.tick()  # node is frozen now
    del node
    gc.collect()
    assert alive() is not None, "a frozen cycle is not collected"
    registry.closed += 9
    keeper.tick()
    assert alive() is not None and keeper.thaws == 0
    registry.closed += 1
    keeper.tick()
    assert alive() is None and keeper.thaws == 1
    assert gc.get_freeze_count() > 0  # frozen again after the thaw


async def test_stopping_the_keeper_unfreezes() -> None:
    keeper = HeapKeeper(ConnectionRegistry(), interval=0.01)
    task = asyncio.create_task(keeper.run())
    await asyncio.sleep(0.05)
    assert gc.get_freeze_count() > 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gc.get_freeze_count() == 0


def test_the_registry_counts_closed_and_replaced_connections() -> None:
    registry = ConnectionRegistry()

    class Fake:
        def __init__(self, charger_id: str) -> None:
            self.charger_id = charger_id
            self.observers: list[object] = []

    first, second = Fake("CP-1"), Fake("CP-1")
    registry.add(first)  # type: ignore[arg-type]
    registry.add(second)  # type: ignore[arg-type]  # replaces the first
    assert registry.closed == 1
    assert not registry.remove(first)  # type: ignore[arg-type]  # gone already: not twice
    assert registry.remove(second)  # type: ignore[arg-type]
    assert registry.closed == 2
