"""freeze_startup_heap: startup objects leave the collected generations, later garbage does not."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from custodia.core.process_heap import freeze_startup_heap


@pytest.fixture
def unfreeze_after() -> Iterator[None]:
    yield
    gc.unfreeze()  # back to normal for the rest of the test process


@pytest.mark.usefixtures("unfreeze_after")
def test_startup_objects_are_frozen_and_later_cycles_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    gc.unfreeze()
    gc.collect()
    before = weakref.ref(Node())  # garbage made before the freeze: collected, not frozen
    frozen = freeze_startup_heap()
    assert frozen > 1000
    # Frozen objects still die by reference count (another thread of the test process may free
    # some), so the count can only have fallen since the freeze.
    assert frozen - 1000 < gc.get_freeze_count() <= frozen
    assert before() is None
    after = weakref.ref(Node())  # a cycle made afterwards is still found by a collection
    assert after() is not None
    gc.collect()
    assert after() is None
