"""Where a source's mapping and tracking plan come from, for loads and replays.

A tracking plan applies to a source's events from (first found):

1. the ``tracking_plan`` file its mapping names (segment_batch sources; relative paths are made
   absolute beside the mapping file when it is read);
2. the plan stored for the collector source of the same name (``custodia plan set``).

A replay needs the mapping a source was loaded with. It is the one in the mapping file given to
the replay, else the one recorded in the lineage of the source's newest load (lineage keeps each
source's mapping document, lookups and folder), so ``custodia quarantine replay`` works after
the plan or mapping file was edited in place.

Example::

    plan = source_plan(ws, "web")                     # None when the source has no plan
    ctx = replay_context(ws, "pos_receipts", mappings=None, root=None)
    ctx.mapping.targets, ctx.root, ctx.plan
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from custodia.collect.mapping_spec import MappingFile, SourceMapping
from custodia.collect.mapping_transforms import LookupTable
from custodia.collect.tracking_plan import TrackingPlan, load_plan_file, parse_plan
from custodia.storage.store_lineage import LineageLog
from custodia.storage.store_plans import TrackingPlanStore
from custodia.workspace import Workspace

__all__ = ["SourceContext", "collector_plans", "replay_context", "source_plan"]

_LINEAGE_LOOKBACK = 500


@dataclass(frozen=True)
class SourceContext:
    """What is known about a source: its mapping (if it is a batch source), the folder its
    paths are relative to, its lookups and its tracking plan."""

    name: str
    mapping: SourceMapping | None = None
    root: Path | None = None
    lookups: dict[str, LookupTable] = field(default_factory=dict)
    plan: TrackingPlan | None = None


def source_plan(ws: Workspace, source: str, plan_file: Path | None = None) -> TrackingPlan | None:
    """The plan for a source's events: ``plan_file`` if given, else the stored collector plan."""
    if plan_file is not None:
        return load_plan_file(plan_file)
    document = TrackingPlanStore(ws.store).get(source)
    return None if document is None else parse_plan(document)


def mapping_plan(ws: Workspace, source: SourceMapping, root: Path) -> TrackingPlan | None:
    """The plan for a mapped source: the file it names, else its collector plan."""
    plan_file = None if source.tracking_plan is None else root / source.tracking_plan
    return source_plan(ws, source.name, plan_file)


def collector_plans(ws: Workspace) -> dict[str, TrackingPlan]:
    """Every collector source's plan, parsed once (for the HTTP collector's loader)."""
    return {name: parse_plan(doc) for name, doc in TrackingPlanStore(ws.store).all().items()}


def replay_context(
    ws: Workspace, source: str, *, mappings: MappingFile | None, root: Path | None
) -> SourceContext:
    """The mapping, lookups, folder and plan a replay uses for ``source``."""
    if mappings is not None and root is not None:
        found = next((s for s in mappings.sources if s.name == source), None)
        if found is not None:
            return SourceContext(
                source, found, root, dict(mappings.lookups), mapping_plan(ws, found, root)
            )
    recorded = _recorded_mapping(ws, source)
    if recorded is not None:
        mapping, location, lookups = recorded
        return SourceContext(
            source, mapping, location, lookups, mapping_plan(ws, mapping, location)
        )
    return SourceContext(source, plan=source_plan(ws, source))


def _recorded_mapping(
    ws: Workspace, source: str
) -> tuple[SourceMapping, Path, dict[str, LookupTable]] | None:
    """The mapping of ``source`` in the newest START event that recorded one."""
    for record in LineageLog(ws.store).recent(limit=_LINEAGE_LOOKBACK, event_types=["START"]):
        for dataset in record.payload.get("inputs", []):
            facet = _facet(dataset) if dataset.get("name") == source else {}
            parsed = _parsed(facet)
            if parsed is not None:
                return parsed
    return None


def _facet(dataset: Mapping[str, Any]) -> Mapping[str, Any]:
    facet = dataset.get("facets", {}).get("custodia_source", {})
    return facet if isinstance(facet, dict) else {}


def _parsed(facet: Mapping[str, Any]) -> tuple[SourceMapping, Path, dict[str, LookupTable]] | None:
    if not isinstance(facet.get("mapping"), dict) or not facet.get("location"):
        return None
    try:
        mapping = SourceMapping.model_validate(facet["mapping"])
    except PydanticValidationError:
        return None  # recorded by a version whose mapping format this one cannot read
    lookups = facet.get("lookups") if isinstance(facet.get("lookups"), dict) else {}
    return mapping, Path(str(facet["location"])), dict(lookups or {})
