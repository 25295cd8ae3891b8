"""The continuous event loader in a process of its own, for ``custodia serve --workers N``.

With one server process the loader is a thread of it (see
:class:`custodia.pipeline.collector_runtime.CollectorRuntime`). With several, a loader thread
would share one worker's interpreter lock with that worker's requests: both slow down. So
``serve`` starts this process next to the workers instead; it takes its settings from the
``CUSTODIA_*`` environment the workers get too, stops after its current chunk on SIGTERM, and
also stops when the server that started it is gone.

Example::

    loader = LoaderProcess.start(interval=1.0)   # CUSTODIA_* variables already set
    ...
    loader.stop()
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.process import BaseProcess
from types import FrameType

from custodia.core.process_heap import freeze_startup_heap
from custodia.pipeline.event_loader import ContinuousLoader, EventLoader
from custodia.settings import load_settings
from custodia.storage.event_log_shards import EventLogShards
from custodia.workspace import Workspace

_PARENT_CHECK_SECONDS = 1.0


@dataclass
class LoaderProcess:
    """Handle on the loader process."""

    process: BaseProcess

    @classmethod
    def start(cls, *, interval: float) -> LoaderProcess:
        context = multiprocessing.get_context("spawn")
        process = context.Process(
            target=run_loader, args=(interval, os.getpid()), name="custodia-loader"
        )
        process.start()
        return cls(process)

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM, wait for the chunk in progress to commit, kill only as a last resort."""
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def run_loader(interval: float, parent: int) -> None:
    """The process's main function: load every ``interval`` seconds until told to stop."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    settings = load_settings()
    retention = timedelta(hours=settings.event_log_retention_hours)
    with Workspace.open(settings) as ws, EventLogShards(settings.event_log_path) as shards:
        continuous = ContinuousLoader(EventLoader(ws, shards, retention=retention), interval)
        freeze_startup_heap()  # full collections would otherwise walk pyarrow's and Delta's objects
        continuous.start()
        while not stop.wait(_PARENT_CHECK_SECONDS) and os.getppid() == parent:
            pass
        continuous.stop()
