"""Keep the text tags of interactions that a load or a replay stages again.

Why: staging merges whole rows by key, and a mapping does not set the columns text mining
derives (``complaint_type``, ``sentiment``, ``tags``), so a re-staged row would have them reset
to NULL. Before the merge, each interaction row about to be written gets:

- the stored tags, when its stored row has the same ``text`` and ``language`` (nothing to
  re-derive: the tags stay as the last tagging run wrote them, rules and model included);
- fresh tags from the workspace's tagger, when the text is new or changed and the workspace has
  a text model (a workspace that was ever tagged has one);
- NULL otherwise (no model yet): ``custodia text tag`` fills them, training the model first.

A mapping that sets some of the derived columns itself (a source with its own labels) keeps
them: the source wins, as for any mapped column, and only the others are kept or derived.

Example::

    carried = carry_interaction_tags(ws, rows, mapped_columns=target.columns)
    carried.rows       # rows with their derived columns filled
    carried.kept, carried.tagged, carried.untagged
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from custodia.collect.text_mining import text_model_exists
from custodia.core.errors import TableNotFoundError
from custodia.core.tables import INTERACTIONS
from custodia.pipeline.interaction_tags import (
    TAG_COLUMNS,
    tag_columns,
    text_inputs,
    workspace_tagger,
)
from custodia.pipeline.text_model import text_model_dir
from custodia.workspace import Workspace

__all__ = ["TagCarry", "carry_interaction_tags"]

_KEY = INTERACTIONS.key[0]
_STORED_SQL = (
    f"select {_KEY}, language, text, {', '.join(TAG_COLUMNS)} from {INTERACTIONS.name} "
    f"where tags is not null and {_KEY} in (select unnest($keys))"
)
_JOIN_SQL = (
    f"from staged r left join stored s on s.{_KEY} = r.{_KEY} "
    "and s.text is not distinct from r.text and s.language is not distinct from r.language"
)


@dataclass(frozen=True)
class TagCarry:
    """Rows about to be staged, with their derived tag columns filled as far as possible."""

    rows: pa.Table
    kept: int = 0
    tagged: int = 0
    untagged: int = 0

    def counts(self) -> dict[str, int]:
        """For a run step's detail."""
        return {"tags_kept": self.kept, "tags_renewed": self.tagged, "untagged": self.untagged}


def carry_interaction_tags(
    ws: Workspace, table: str, rows: pa.Table, mapped_columns: Collection[str]
) -> TagCarry:
    """Fill the text-mining columns of ``rows`` (bound for ``table``) before they are merged.

    Any table other than ``interactions``, or a mapping that sets every derived column itself,
    passes through unchanged; columns the mapping sets are never touched.
    """
    derived = [c for c in TAG_COLUMNS if c not in set(mapped_columns)]
    if table != INTERACTIONS.name or rows.num_rows == 0 or not derived:
        return TagCarry(rows)
    carry = ", ".join(f"s.{c} as {c}" for c in derived)
    carried = ws.transform(
        f"select r.* replace ({carry}) {_JOIN_SQL}",
        relations={"staged": rows, "stored": _stored(ws, rows)},
    )
    missing = pc.is_null(carried.column(derived[-1]))  # tags, unless the mapping sets them
    kept = carried.filter(pc.invert(missing))
    fresh = carried.filter(missing)
    if fresh.num_rows == 0 or not text_model_exists(text_model_dir(ws)):
        return TagCarry(carried, kept=kept.num_rows, untagged=fresh.num_rows)
    tagger, _metadata, _trained = workspace_tagger(ws)
    for name, values in tag_columns(tagger.tag(text_inputs(fresh))).items():
        if name in derived:
            fresh = fresh.set_column(fresh.schema.get_field_index(name), name, values)
    tagged = pa.concat_tables([kept, fresh.cast(kept.schema)])
    return TagCarry(tagged, kept=kept.num_rows, tagged=fresh.num_rows)


def _stored(ws: Workspace, rows: pa.Table) -> pa.Table:
    """The stored tags of the rows' keys (only rows that were tagged)."""
    keys = rows.column(_KEY).to_pylist()
    try:
        return ws.query_engine().query(_STORED_SQL, {"keys": keys})
    except TableNotFoundError:
        return pa.table(
            {name: pa.array([], pa.string()) for name in (_KEY, "language", "text", *TAG_COLUMNS)}
        )
