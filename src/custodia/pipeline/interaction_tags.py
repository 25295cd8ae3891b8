"""Pipeline step: tag staged interactions with complaint type, sentiment and products.

Reads the ``interactions`` rows that have no tags yet (or all of them with ``full=True``), runs
the workspace's text model, rules and product lexicons over their text, and merges
``complaint_type``, ``sentiment`` and ``tags`` (a JSON list) back by ``interaction_id``. Other
columns are left as they are. Each chunk is its own commit, so an interrupted run resumes
where it stopped; the run and its counts go to the run log (kind ``text_tag``).

Product names come from the configuration and, unless switched off, from the product names in
``order_lines`` (the brand's catalogue as sold).

Example::

    report = tag_interactions(ws)                 # only rows without tags
    report = tag_interactions(ws, full=True)      # re-tag everything (after new rules or model)
    report.complaint_types                        # {'other': 212, 'size_fit': 31, ...}
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from custodia.collect.text_mining import ModelMetadata, TextInput, TextTagger, TextTags
from custodia.core.errors import TableNotFoundError
from custodia.core.tables import INTERACTIONS
from custodia.pipeline.review_corrections import apply_corrections
from custodia.pipeline.text_model import ensure_text_model, workspace_text_config
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

Progress = Callable[[str, int, int], None]
CHUNK_ROWS = 50_000
RUN_KIND = "text_tag"
TAG_COLUMNS = ("complaint_type", "sentiment", "tags")


class TagReport(BaseModel):
    """What one tagging run did."""

    run_id: str
    full: bool = Field(description="Whether every row was re-tagged, not only untagged ones.")
    rows_read: int
    rows_tagged: int = Field(description="Rows whose tags were written.")
    complaint_types: dict[str, int]
    sentiments: dict[str, int]
    rules_fired: dict[str, int]
    products_tagged: int = Field(description="Rows that mention at least one product.")
    model_trained: bool = Field(description="Whether the default model was trained first.")
    model_seed: int | None = Field(description="Training seed of the model (None: not needed).")
    model_trained_at: str | None


def tag_interactions(
    ws: Workspace, *, full: bool = False, progress: Progress | None = None
) -> TagReport:
    """Tag the interactions that lack tags (all of them with ``full``) in one recorded run."""
    runs = RunLog(ws.store, ws.clock)
    run_id = runs.start_run(RUN_KIND, {"full": full})
    try:
        report = _tag(ws, runs, run_id, full, progress)
        apply_corrections(ws, [INTERACTIONS.name], run_id=run_id)  # stewards' values win
    except Exception as exc:
        runs.fail_run(run_id, exc)
        raise
    runs.finish_run(
        run_id, RunStatus.SUCCEEDED, stats={"rows_read": report.rows_read,
                                            "rows_tagged": report.rows_tagged}
    )  # fmt: skip
    return report


def _tag(
    ws: Workspace, runs: RunLog, run_id: str, full: bool, progress: Progress | None
) -> TagReport:
    report = progress or _silent
    started = ws.clock.now()
    rows = _rows_to_tag(ws, full)
    if rows.num_rows == 0:  # nothing to do: do not train a model for it either
        report("nothing to tag", 0, 0)
        return _report(run_id, full, rows.num_rows, _Tallies(), None, trained=False)
    tagger, metadata, trained = workspace_tagger(ws, progress=progress)
    tallies = _Tallies()
    for start in range(0, rows.num_rows, CHUNK_ROWS):
        report("tagging interactions", start, rows.num_rows)
        chunk = rows.slice(start, CHUNK_ROWS)
        tags = tagger.tag(text_inputs(chunk))
        _merge(ws, run_id, chunk, tags)
        tallies.add(tags)
    report("tagged interactions", rows.num_rows, rows.num_rows)
    runs.record_step(
        run_id, "tag", source=INTERACTIONS.name, rows_in=rows.num_rows,
        rows_stored=rows.num_rows, started_at=started,
        detail={"complaint_types": dict(tallies.complaints), "model_seed": metadata.training_seed},
    )  # fmt: skip
    return _report(run_id, full, rows.num_rows, tallies, metadata, trained=trained)


def _report(
    run_id: str,
    full: bool,
    rows: int,
    tallies: _Tallies,
    metadata: ModelMetadata | None,
    *,
    trained: bool,
) -> TagReport:
    return TagReport(
        run_id=run_id,
        full=full,
        rows_read=rows,
        rows_tagged=rows,
        complaint_types=dict(sorted(tallies.complaints.items())),
        sentiments=dict(sorted(tallies.sentiments.items())),
        rules_fired=dict(sorted(tallies.rules.items())),
        products_tagged=tallies.with_products,
        model_trained=trained,
        model_seed=None if metadata is None else metadata.training_seed,
        model_trained_at=None if metadata is None else metadata.trained_at,
    )


def workspace_tagger(
    ws: Workspace, progress: Progress | None = None
) -> tuple[TextTagger, ModelMetadata, bool]:
    """The workspace's tagger: its model (trained on demand), rules and product catalogue.

    Returns ``(tagger, model metadata, whether the model was trained now)``.
    """
    model, metadata, trained = ensure_text_model(ws, progress=progress)
    config = workspace_text_config(ws)
    catalog = _catalog_names(ws) if config.catalog_from_workspace else []
    return TextTagger(model, config, catalog), metadata, trained


class _Tallies:
    def __init__(self) -> None:
        self.complaints: Counter[str] = Counter()
        self.sentiments: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.with_products = 0

    def add(self, tags: Sequence[TextTags]) -> None:
        for item in tags:
            self.complaints[item.complaint_type or "none"] += 1
            self.sentiments[item.sentiment or "none"] += 1
            self.rules.update(item.rules)
            self.with_products += any(t.startswith("product") for t in item.tags)


def _rows_to_tag(ws: Workspace, full: bool) -> pa.Table:
    where = "" if full else " where tags is null"
    return ws.query(
        "select interaction_id, source, kind, language, text from interactions"
        f"{where} order by interaction_id"
    )


def _catalog_names(ws: Workspace) -> list[str]:
    try:
        names = ws.query(
            "select distinct product_name from order_lines where product_name is not null"
        )
    except TableNotFoundError:
        return []
    return [str(n) for n in names.column("product_name").to_pylist()]


def tag_columns(tags: Sequence[TextTags]) -> dict[str, pa.Array]:
    """The derived ``interactions`` columns (:data:`TAG_COLUMNS`) for ``tags``, as Arrow."""
    return {
        "complaint_type": pa.array([t.complaint_type for t in tags], pa.string()),
        "sentiment": pa.array([t.sentiment for t in tags], pa.string()),
        "tags": pa.array([json.dumps(t.tags, ensure_ascii=False) for t in tags], pa.large_string()),
    }


def text_inputs(rows: pa.Table) -> list[TextInput]:
    """The ``text`` and ``language`` of ``interactions`` rows, as tagger inputs."""
    texts: list[Any] = rows.column("text").to_pylist()
    languages: list[Any] = rows.column("language").to_pylist()
    return [TextInput(t, lang) for t, lang in zip(texts, languages, strict=True)]


def _merge(ws: Workspace, run_id: str, chunk: pa.Table, tags: Sequence[TextTags]) -> None:
    """Write the derived columns back; the key, source and kind keep the row where it is."""
    data = pa.table(
        {
            "interaction_id": chunk.column("interaction_id"),
            "source": chunk.column("source"),
            "kind": chunk.column("kind"),
            **tag_columns(tags),
        }
    )
    ws.lake.merge(
        INTERACTIONS.zone.value,
        INTERACTIONS.name,
        data,
        INTERACTIONS.key,
        commit_info={"run_id": run_id, "job": RUN_KIND},
    )


def _silent(_step: str, _done: int, _total: int) -> None:
    return None
