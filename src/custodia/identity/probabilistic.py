"""Probabilistic (Fellegi-Sunter) matching with Splink: unsupervised training and scoring.

Why: many records share no key with anyone (a ticket with a name, a receipt with a mistyped
phone). A Fellegi-Sunter model weighs how much each agreement says about "same person": an exact
birthday is strong evidence, the same city weak. Splink fits it without labels:

1. the probability that two random records match (lambda) from deterministic rules and their
   assumed recall;
2. the *u* probabilities (agreement among non-matches) from a seeded random sample of pairs;
3. the *m* probabilities (agreement among matches) by expectation maximisation, once per
   training blocking rule.

The trained model is Splink's JSON (saved in the workspace so a run can be reproduced). Scoring
blocks pairs with the spec's rules and keeps those at or above ``match_threshold``; with
``new_record_ids`` only pairs that involve a new record are blocked and scored (new against new,
new against existing), so adding 10,000 records to a million does not re-score the million.

The records table has a unique string ``record_id`` and the compared columns; every value is
compared as a trimmed string (empty means missing; dates as ISO ``YYYY-MM-DD``).

Example::

    model = train_model(records, spec)
    pairs = predict_pairs(records, model, spec)          # left_record < right_record
    pairs.column("evidence")[0]     # '{"name": "Jaro-Winkler >0.92", "birthday": "exact"}'
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from copy import deepcopy
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from splink import Linker
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.exceptions import EMTrainingException

from custodia.core.errors import ValidationError
from custodia.identity.probabilistic_comparisons import (
    RECORD_ID,
    blocking_rule,
    splink_settings,
)
from custodia.identity.probabilistic_spec import ProbabilisticSpec
from custodia.storage.linkage_backend import linkage_backend

__all__ = ["PAIR_SCHEMA", "predict_pairs", "prepare_records", "train_model"]

PAIR_SCHEMA = pa.schema(
    [
        pa.field("left_record", pa.string(), nullable=False),
        pa.field("right_record", pa.string(), nullable=False),
        pa.field("match_probability", pa.float64(), nullable=False),
        pa.field("match_weight", pa.float64(), nullable=False),
        pa.field("evidence", pa.string(), nullable=False),
    ]
)
"""Columns of :func:`predict_pairs`' result."""


class _SplinkQuiet:
    """Raises Splink's logger to ERROR while at least one run is active (runs may overlap in
    threads: the first one in saves the level, the last one out restores it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved = logging.NOTSET

    @contextmanager
    def __call__(self) -> Iterator[None]:
        logger = logging.getLogger("splink")
        with self._lock:
            if self._active == 0:
                self._saved = logger.level
                logger.setLevel(logging.ERROR)
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    logger.setLevel(self._saved)


_quiet_splink = _SplinkQuiet()

EXACT_PAIR_COUNT_UP_TO = 200_000
"""Records up to which the blocked pairs are counted exactly before chunking (above: estimated
on a 5% hash sample of each side)."""

ChunkProgress = Callable[[int, int], None]
"""``progress(chunks_done, chunks_total)`` of a full scoring run."""


def prepare_records(records: pa.Table, spec: ProbabilisticSpec) -> pa.Table:
    """``record_id`` and the spec's columns as trimmed strings, empty as null.

    Refuses (:class:`ValidationError` naming the column) a missing ``record_id`` or compared
    column, and duplicate or null record ids.
    """
    for column in [RECORD_ID, *spec.columns()]:
        if column not in records.column_names:
            raise ValidationError(
                column, "column_exists", f"{column}: the records have no column of this name"
            )
    ids = records.column(RECORD_ID).cast(pa.string())
    if ids.null_count:
        raise ValidationError(RECORD_ID, "not_null", f"{RECORD_ID}: must not be empty")
    if pc.count_distinct(ids).as_py() != len(ids):
        raise ValidationError(RECORD_ID, "unique", f"{RECORD_ID}: must be unique")
    columns = {RECORD_ID: ids}
    for column in spec.columns():
        text = pc.utf8_trim_whitespace(records.column(column).cast(pa.string()))
        columns[column] = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return pa.table(columns)


def _linker(db_api: Any, records: pa.Table, settings: Any) -> Linker:
    frame = db_api.register(records)
    return Linker(frame, settings, log_level=None)


def train_model(
    records: pa.Table,
    spec: ProbabilisticSpec,
    *,
    engine: str = "duckdb",
    engine_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit the spec's model on ``records`` without labels; return Splink's model JSON (a dict).

    Deterministic for the same records and spec (the u sample is seeded by ``spec.seed``).
    """
    table = prepare_records(records, spec)
    if table.num_rows < 2:
        raise ValidationError("records", "at_least_two", "records: training needs two or more")
    with _quiet_splink(), linkage_backend(engine, **dict(engine_options or {})) as db_api:
        linker = _linker(db_api, table, splink_settings(spec))
        training = linker.training
        _estimate_lambda(linker, spec)
        training.estimate_u_using_random_sampling(max_pairs=spec.max_pairs_for_u, seed=spec.seed)
        _estimate_m(training, spec)
        model: dict[str, Any] = linker.misc.save_model_to_json()
    plain: dict[str, Any] = json.loads(json.dumps(model))
    return plain


def _estimate_lambda(linker: Linker, spec: ProbabilisticSpec) -> None:
    """Lambda from the deterministic rules; a recall they contradict is the spec's error."""
    rules = [blocking_rule(rule) for rule in spec.deterministic_rules]
    try:
        linker.training.estimate_probability_two_random_records_match(rules, recall=spec.recall)
    except ValueError as err:
        if "recall" not in str(err):
            raise
        raise ValidationError(
            "recall",
            "consistent_with_rules",
            "recall: the deterministic rules find more pairs than this recall allows; "
            "raise recall or make the rules stricter",
        ) from None
    if not linker.misc.save_model_to_json()["probability_two_random_records_match"]:
        raise ValidationError(
            "deterministic_rules",
            "finds_pairs",
            "deterministic_rules: the rules find no pair of records; use looser rules",
        )


def _estimate_m(training: Any, spec: ProbabilisticSpec) -> None:
    """One EM pass per training rule; a rule that blocks no pair is the spec's error."""
    for number, rule in enumerate(spec.training_blocking_rules):
        try:
            training.estimate_parameters_using_expectation_maximisation(
                blocking_rule(rule), max_pairs=spec.max_pairs_for_em
            )
        except EMTrainingException:
            field = f"training_blocking_rules[{number}]"
            raise ValidationError(
                field, "finds_pairs", f"{field}: the rule blocks no pair of records"
            ) from None
        except ValueError as err:
            if "probability" not in str(err):
                raise
            # too few pairs: a comparison level was never observed, so EM drove its m or u
            # probability to zero (Splink refuses values below 1e-300)
            field = f"training_blocking_rules[{number}]"
            raise ValidationError(
                field, "enough_pairs",
                f"{field}: too few pairs to estimate every comparison level",
            ) from None  # fmt: skip


def _level_labels(model: Mapping[str, Any]) -> list[tuple[str, dict[int, str]]]:
    """Per comparison: its output column and comparison vector value -> level label."""
    out = []
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        counter = sum(1 for lv in levels if not lv.get("is_null_level")) - 1
        labels: dict[int, str] = {}
        for level in levels:
            label = str(level.get("label_for_charts") or level["sql_condition"])
            if level.get("is_null_level"):
                labels[-1] = "null"
            else:
                labels[counter] = label
                counter -= 1
        out.append((str(comparison["output_column_name"]), labels))
    return out


def _scoring_model(
    model: Mapping[str, Any], spec: ProbabilisticSpec, dialect: str
) -> dict[str, Any]:
    """The trained model with the spec's current blocking rules, keeping the level of each pair."""
    scoring = deepcopy(dict(model))
    with _quiet_splink():
        rules = splink_settings(spec).get_settings(dialect).as_dict()
    scoring["blocking_rules_to_generate_predictions"] = rules[
        "blocking_rules_to_generate_predictions"
    ]
    scoring["retain_matching_columns"] = True  # Splink keeps the level (gamma) columns only then
    scoring["retain_intermediate_calculation_columns"] = False
    return scoring


def _check_model(model: Mapping[str, Any], spec: ProbabilisticSpec) -> None:
    trained = [str(c.get("output_column_name")) for c in model.get("comparisons", [])]
    wanted = [c.column for c in spec.comparisons]
    if trained != wanted:
        raise ValidationError(
            "model",
            "matches_spec",
            "model: its comparisons differ from the spec's; train it again",
        )


def _pairs_table(frames: list[pa.Table], model: Mapping[str, Any], threshold: float) -> pa.Table:
    labels = _level_labels(model)
    parts = [_pairs_of(frame, labels, threshold) for frame in frames]
    table = pa.concat_tables(parts) if parts else PAIR_SCHEMA.empty_table()
    return _dedupe_sorted(table)


def _pairs_of(
    frame: pa.Table, labels: list[tuple[str, dict[int, str]]], threshold: float
) -> pa.Table:
    """One Splink result as :data:`PAIR_SCHEMA` rows, vectorised (a full run has many pairs)."""
    kept = frame.filter(pc.greater_equal(frame.column("match_probability"), threshold))
    a = kept.column(f"{RECORD_ID}_l").cast(pa.string())
    b = kept.column(f"{RECORD_ID}_r").cast(pa.string())
    a_first = pc.less_equal(a, b)
    columns = [
        pc.if_else(a_first, a, b),
        pc.if_else(a_first, b, a),
        kept.column("match_probability").cast(pa.float64()),
        kept.column("match_weight").cast(pa.float64()),
        _evidence(kept, labels),
    ]
    return pa.Table.from_arrays(columns, schema=PAIR_SCHEMA)


def _evidence(frame: pa.Table, labels: list[tuple[str, dict[int, str]]]) -> pa.ChunkedArray:
    """JSON object per pair, ``{"column": "level label", ...}``, built from the level columns."""
    fragments = []
    for column, names in labels:
        values = sorted(names)
        texts = pa.array(
            [f"{_json(column)}: {_json(names[v])}" for v in values] + [f"{_json(column)}: null"]
        )
        gamma = frame.column(f"gamma_{column}").cast(pa.int64())
        index = pc.fill_null(pc.index_in(gamma, value_set=pa.array(values, pa.int64())), -1)
        index = pc.if_else(pc.equal(index, -1), len(values), index)
        fragments.append(pc.take(texts, index))
    if not fragments:
        return pa.chunked_array([pa.array(["{}"] * frame.num_rows, pa.string())])
    joined = pc.binary_join_element_wise(*fragments, ", ")
    return pc.binary_join_element_wise("{", joined, "}", "")


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _dedupe_sorted(table: pa.Table) -> pa.Table:
    ordered = table.sort_by([("left_record", "ascending"), ("right_record", "ascending")])
    if ordered.num_rows < 2:
        return ordered
    lefts, rights = ordered.column("left_record"), ordered.column("right_record")
    same = pc.and_(
        pc.equal(lefts.slice(1), lefts.slice(0, len(lefts) - 1)),
        pc.equal(rights.slice(1), rights.slice(0, len(rights) - 1)),
    )
    keep = pa.concat_arrays([pa.array([True]), pc.invert(same).combine_chunks()])
    return ordered.filter(keep)


def predict_pairs(
    records: pa.Table,
    model: Mapping[str, Any],
    spec: ProbabilisticSpec,
    *,
    new_record_ids: Collection[str] | None = None,
    engine: str = "duckdb",
    engine_options: Mapping[str, Any] | None = None,
    progress: ChunkProgress | None = None,
) -> pa.Table:
    """Pairs of ``records`` at or above ``spec.match_threshold`` (schema :data:`PAIR_SCHEMA`).

    With ``new_record_ids``, only pairs with at least one new record are blocked and scored.
    Term frequencies always come from all ``records``. Scoring every record runs in chunks of
    about ``spec.max_pairs_per_chunk`` blocked pairs; ``progress(done, total)`` follows them.
    """
    _check_model(model, spec)
    table = prepare_records(records, spec)
    if table.num_rows < 2:
        return PAIR_SCHEMA.empty_table()
    threshold = spec.match_threshold
    with _quiet_splink(), linkage_backend(engine, **dict(engine_options or {})) as db_api:
        scoring = _scoring_model(model, spec, db_api.sql_dialect.sql_dialect_str)
        frame = db_api.register(table)
        linker = Linker(frame, scoring, log_level=None)
        if new_record_ids is None:
            exact = table.num_rows <= EXACT_PAIR_COUNT_UP_TO
            blocked = _blocked_pairs(frame, spec, sample=1.0 if exact else 0.05)
            frames = _predict_all(linker, spec, blocked, progress)
        else:
            frames = _predict_new(db_api, linker, table, set(new_record_ids), spec)
    return _pairs_table(frames, scoring, threshold)


def chunk_count(blocked_pairs: float, max_pairs_per_chunk: int) -> int:
    """Groups n to hash the records into so each of the n x n chunks holds about
    ``max_pairs_per_chunk`` blocked pairs or fewer (pairs are spread over the n² chunks).

    >>> chunk_count(1e6, 20_000_000), chunk_count(237e6, 20_000_000)
    (1, 4)
    """
    return max(1, math.ceil(math.sqrt(blocked_pairs / max_pairs_per_chunk)))


def _predict_all(
    linker: Linker, spec: ProbabilisticSpec, blocked: float, progress: ChunkProgress | None
) -> list[pa.Table]:
    """Every blocked pair scored, chunk by chunk: a loose rule (one birthday shared by hundreds
    of records) makes hundreds of millions of pairs, and Splink holds a chunk's pairs at once."""
    threshold = spec.match_threshold
    n = chunk_count(blocked, spec.max_pairs_per_chunk)
    total = n * n
    frames = []
    for number, (left, right) in enumerate(itertools.product(range(1, n + 1), repeat=2)):
        if progress is not None:
            progress(number, total)
        chunk = linker.inference.predict_chunk(
            left_chunk=(left, n),
            right_chunk=(right, n),
            threshold_match_probability=threshold,
            warning_mode="never",
        )
        frames.append(_fetch(chunk, spec))
        chunk.drop_table_from_database_and_remove_from_cache()
    if progress is not None:
        progress(total, total)
    return frames


def _blocked_pairs(frame: Any, spec: ProbabilisticSpec, *, sample: float) -> float:
    """Blocked pairs of the spec's rules together, as Splink counts them (on a hash sample of
    ``sample`` of the records on each side, scaled up; exact with 1.0)."""
    counts = count_comparisons_from_blocking_rules(
        frame,
        blocking_rules=[blocking_rule(rule) for rule in spec.blocking_rules],
        link_type="dedupe_only",
        unique_id_column_name=RECORD_ID,
        record_sample_proportion=sample,
    )
    return float(counts[-1]["cumulative_comparison_count"]) if counts else 0.0


def _fetch(frame: Any, spec: ProbabilisticSpec) -> pa.Table:
    """Only the ids, scores and levels of a Splink result (not the compared values)."""
    columns = [f"{RECORD_ID}_l", f"{RECORD_ID}_r", "match_probability", "match_weight"]
    columns += [f"gamma_{c.column}" for c in spec.comparisons]  # plain names (spec-validated)
    selected = frame.query_sql(f"SELECT {', '.join(columns)} FROM {{this}}")
    result: pa.Table = selected.as_pyarrow_table()
    return result


def _predict_new(
    db_api: Any,
    linker: Linker,
    table: pa.Table,
    new_ids: set[str],
    spec: ProbabilisticSpec,
) -> list[pa.Table]:
    threshold = spec.match_threshold
    tf_columns = [c.column for c in spec.comparisons if c.term_frequency]
    is_new = pc.is_in(table.column(RECORD_ID), value_set=pa.array(sorted(new_ids), pa.string()))
    new_rows = table.filter(is_new)
    old_rows = table.filter(pc.invert(is_new))
    if new_rows.num_rows == 0:
        return []
    for column in tf_columns:
        linker.table_management.compute_tf_table(column)
    new_frame = db_api.register(new_rows)
    frames = []
    if new_rows.num_rows > 1:
        within = linker.inference.predict_within(new_frame, threshold_match_probability=threshold)
        frames.append(_fetch(within, spec))
    if old_rows.num_rows > 0:
        old_frame = db_api.register(old_rows)
        between = linker.inference.predict_between(
            old_frame, new_frame, threshold_match_probability=threshold
        )
        frames.append(_fetch(between, spec))
    return frames
