"""Writing the clickstream in a forked child process while the parent writes the other sources.

Why: the clickstream is the largest export (millions of events for 100,000 customers) and pure
Python string work, so on a multi-core machine it runs beside the other writers. The child writes
exactly the same bytes as the sequential path (it uses its own seeded streams); only the wall
time changes. Forking is used only where it is safe: a platform with ``fork``, a process with a
single Python thread, and a data set big enough to be worth it. Otherwise the work runs inline.

Example::

    pending = start_clickstream(out_dir, world)
    ...  # write the other sources
    result = pending.result()
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from custodia.demo.sources_clickstream import ClickstreamResult, write_clickstream
from custodia.demo.world import World

PARALLEL_FROM_CUSTOMERS = 10_000


class PendingClickstream:
    """The clickstream export, running in a child process or deferred until :meth:`result`."""

    def __init__(self, out_dir: Path, world: World) -> None:
        self._out_dir, self._world = out_dir, world
        self._child: BaseProcess | None = None
        self._receiver: Connection | None = None
        if worth_forking(world.people.n):
            context = multiprocessing.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            self._child = context.Process(target=_child, args=(out_dir, world, sender), daemon=True)
            self._child.start()
            sender.close()

    def result(self) -> ClickstreamResult:
        """Wait for the child (or write inline) and return what was written."""
        if self._child is None or self._receiver is None:
            return write_clickstream(self._out_dir, self._world)
        try:
            outcome = self._receiver.recv()
        finally:
            self._child.join()
            self._receiver.close()
        if isinstance(outcome, BaseException):
            raise outcome
        if not isinstance(outcome, ClickstreamResult):
            raise RuntimeError(f"clickstream writer exited with code {self._child.exitcode}")
        return outcome

    def cancel(self) -> None:
        """Stop the child when the rest of the generation failed."""
        if self._child is not None and self._child.is_alive():
            self._child.terminate()
            self._child.join()


def start_clickstream(out_dir: Path, world: World) -> PendingClickstream:
    """Start the export in a child when worthwhile; call ``result()`` to wait for it."""
    return PendingClickstream(out_dir, world)


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
