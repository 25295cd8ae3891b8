"""Probabilistic edges for a resolution run: train or load the model, score, keep the matches.

The comparison table handed to Splink has one row per customer record with normalized columns:

=============  =================================================================
``record_id``  the record
``name``       display-normal name (Chinese kept)
``name_key``   comparison key of the name (pinyin for Chinese, lowercase ASCII)
``gender``     as given
``birthday``   ISO date
``phone``      E.164
``email``      normalized
``resident_id``  normalized (valid ones only)
``province``, ``city``, ``address``  as given, trimmed
=============  =================================================================

A spec's comparisons and blocking rules name these columns. The model is trained on a full run
(or when none is saved) and saved as JSON in the workspace; incremental runs reuse it and score
only pairs involving new records.

Example::

    outcome = probabilistic_edges(ws, spec, inputs, full=True, run_id=r, now=now)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.identity.matching import PROBABILISTIC_RULE, edge_id
from custodia.identity.models import IdentitySpec
from custodia.identity.normalize import name_comparison_key, normalize_name, normalize_values
from custodia.identity.probabilistic import ChunkProgress, predict_pairs, train_model
from custodia.pipeline.identity_inputs import IdentityInputs
from custodia.pipeline.identity_workspace import model_path
from custodia.workspace import Workspace

__all__ = ["COMPARISON_COLUMNS", "comparison_table", "probabilistic_edges"]

COMPARISON_COLUMNS = (
    "record_id",
    "name",
    "name_key",
    "gender",
    "birthday",
    "phone",
    "email",
    "resident_id",
    "province",
    "city",
    "address",
)

_SOURCE_COLUMNS = tuple(c for c in COMPARISON_COLUMNS if c != "name_key")
"""The ``customer_records`` columns the comparison table is made of (``name_key`` is derived)."""


def comparison_table(rows: pa.Table) -> pa.Table:
    """Normalized comparison columns of ``customer_records`` rows."""
    data = rows.select(_SOURCE_COLUMNS).to_pydict()
    names = [normalize_name(v).value if v is not None else None for v in data["name"]]
    out: dict[str, list[Any]] = {
        "record_id": data["record_id"],
        "name": names,
        "name_key": [name_comparison_key(n) if n else None for n in names],
        "gender": [_clean(v) for v in data["gender"]],
        "birthday": [v.isoformat() if isinstance(v, date) else None for v in data["birthday"]],
    }
    for column in ("phone", "email", "resident_id"):
        out[column] = normalize_values(column, data[column])[0]
    for column in ("province", "city", "address"):
        out[column] = [_clean(v) for v in data[column]]
    return pa.table({c: pa.array(out[c], pa.string()) for c in COMPARISON_COLUMNS})


def _clean(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


_DATA_DEPENDENT = ("deterministic_rules", "recall", "training_blocking_rules")
"""Spec fields whose training errors say "these records are too few or too unlike to train on",
not "the spec is wrong"."""


@dataclass(slots=True)
class ProbabilisticOutcome:
    """What the probabilistic stage did: edges, whether it trained, why it was skipped."""

    edges: list[dict[str, Any]] = field(default_factory=list)
    trained: bool = False
    skipped: str | None = None


def probabilistic_edges(
    ws: Workspace,
    spec: IdentitySpec,
    inputs: IdentityInputs,
    *,
    full: bool,
    run_id: str,
    now: datetime,
    progress: ChunkProgress | None = None,
) -> ProbabilisticOutcome:
    """Edges of the pairs at or above the spec's threshold (training the model if needed).

    When the records cannot train a model (e.g. a tiny workspace where the deterministic rules
    find no pair), the stage is skipped and the reason reported; a spec error still fails.
    """
    prob = spec.probabilistic
    if prob is None or not prob.enabled or inputs.customer_rows is None:
        return ProbabilisticOutcome()
    try:
        everything = ws.query_engine().query(
            f"SELECT {', '.join(_SOURCE_COLUMNS)} FROM customer_records"
        )
    except TableNotFoundError:
        return ProbabilisticOutcome()
    records = comparison_table(everything)
    path = model_path(ws)
    trained = full or not path.exists()
    if trained:
        try:
            model = train_model(records, prob)
        except ValidationError as exc:
            if not exc.field.startswith(_DATA_DEPENDENT):
                raise
            return ProbabilisticOutcome(skipped=f"cannot train on these records: {exc}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(model, indent=1, ensure_ascii=False), encoding="utf-8")
    else:
        model = json.loads(path.read_text(encoding="utf-8"))
    every_record_new = inputs.customer_rows.num_rows >= records.num_rows  # e.g. a first run
    new_ids = (
        None
        if full or every_record_new
        else set(inputs.customer_rows.column("record_id").to_pylist())
    )
    pairs = predict_pairs(records, model, prob, new_record_ids=new_ids, progress=progress)
    edges = [
        {
            "edge_id": edge_id(PROBABILISTIC_RULE, row["left_record"], row["right_record"]),
            "left_record": row["left_record"],
            "right_record": row["right_record"],
            "rule": PROBABILISTIC_RULE,
            "score": float(row["match_probability"]),
            "evidence": {
                "match_weight": round(float(row["match_weight"]), 3),
                "comparisons": json.loads(row["evidence"]) if row["evidence"] else {},
            },
            "created_at": now,
            "created_by": run_id,
        }
        for row in pairs.to_pylist()
    ]
    return ProbabilisticOutcome(edges=edges, trained=trained)
