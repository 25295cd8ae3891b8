"""Writing the clickstream in a forked child process while the parent writes the other sources.

Why: the clickstream is the largest export (millions of events for 100,000 customers) and pure
Python string work, so on a multi-core machine it runs beside the other writers. The child writes
exactly the same bytes as the sequential path (it uses its own seeded streams); only the wall
time changes. Forking is used only where it is safe: a platform with ``fork``, a process with a
single Python thread, and a data set big enough to be worth it. Otherwise the work runs inline.

Example::

    wait = start_clickstream(out_dir, world)
    ...  # write other sources
    result = wait()
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from custodia.demo.sources_clickstream import ClickstreamResult, write_clickstream
from custodia.demo.world import World

PARALLEL_FROM_CUSTOMERS = 10_000


def start_clickstream(out_dir: Path, world: World) -> Callable[[], ClickstreamResult]:
    """Start the export (in a child when worthwhile); the returned callable waits for it."""
    if not worth_forking(world.people.n):
        return lambda: write_clickstream(out_dir, world)
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(out_dir, world, sender), daemon=True)
    child.start()
    sender.close()

    def wait() -> ClickstreamResult:
        try:
            outcome = receiver.recv()
        finally:
            child.join()
            receiver.close()
        if isinstance(outcome, BaseException):
            raise outcome
        if not isinstance(outcome, ClickstreamResult):
            raise RuntimeError(f"clickstream writer exited with code {child.exitcode}")
        return outcome

    return wait


def worth_forking(customers: int) -> bool:
    return (
        customers >= PARALLEL_FROM_CUSTOMERS
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def _child(out_dir: Path, world: World, sender: Connection) -> None:
    try:
        sender.send(write_clickstream(out_dir, world))
    except BaseException as error:
        sender.send(error)
    finally:
        sender.close()
