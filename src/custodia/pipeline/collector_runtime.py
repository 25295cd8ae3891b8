"""Everything the HTTP collector needs while a server runs, built from one workspace.

The event log, the source registry (write-key cache), the rate limiter, the collector itself (with
the ``events`` quality rules marked ``at_entry`` that are in force when it starts) and, unless
turned off, the continuous event loader. ``custodia serve`` starts one runtime per server
process in the app's lifespan and closes it on shutdown: the loader finishes its chunk, then the
log commits whatever is queued.

Example::

    runtime = CollectorRuntime.start(ws)
    reply = await runtime.collector.collect("track", body, authorization=auth)
    runtime.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from custodia.collect.collector import Collector
from custodia.collect.rate_limit import RateLimiter
from custodia.collect.sources import SourceRegistry
from custodia.pipeline.entry_validation import collector_entry_rules
from custodia.pipeline.event_loader import ContinuousLoader, EventLoader
from custodia.storage.event_log import SqliteEventLog
from custodia.storage.event_log_shards import EventLogShards
from custodia.workspace import Workspace


@dataclass
class CollectorRuntime:
    """The collector's live objects for one server process."""

    event_log: SqliteEventLog
    """This process's shard of the log (the collector appends here)."""
    shards: EventLogShards
    sources: SourceRegistry
    collector: Collector
    loader: EventLoader
    continuous: ContinuousLoader | None

    @classmethod
    def start(cls, ws: Workspace) -> CollectorRuntime:
        """Open the log and start the continuous loader (if its interval is not 0)."""
        settings = ws.settings
        shards = EventLogShards(settings.event_log_path)
        event_log = shards.claim()
        sources = SourceRegistry(ws.store, ws.clock)
        limiter = RateLimiter(workers=settings.workers)
        collector = Collector(
            sources, event_log, clock=ws.clock, limiter=limiter,
            entry_rules=collector_entry_rules(ws),
        )  # fmt: skip
        retention = timedelta(hours=settings.event_log_retention_hours)
        loader = EventLoader(ws, shards, retention=retention)
        continuous = None
        if settings.loader_interval_seconds > 0:
            continuous = ContinuousLoader(loader, settings.loader_interval_seconds)
            continuous.start()
        return cls(event_log, shards, sources, collector, loader, continuous)

    def close(self) -> None:
        """Stop the loader after its current chunk, then flush and close the log."""
        if self.continuous is not None:
            self.continuous.stop()
        self.shards.close()
