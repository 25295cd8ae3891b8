"""Attribution results: credit per model and channel, holdout lift, and the journeys summary.

Takes the rows the attribution SQL returns (:mod:`custodia.analytics.attribution`), runs the
chosen models (:mod:`custodia.analytics.attribution_models`) and shapes the two result tables:
``analysis_attribution`` (model, channel, credited conversions and value, share, removal
effect, error bound) and ``analysis_attribution_lift`` (per channel with a holdout group: the
exposed and held-out groups, their conversion rates, the lift and the incremental conversions
with a 95% interval). No journey with a conversion gives empty, well-formed tables.

Example::

    credit = credit_table(paths, decay, params)
    lift = lift_table(session.run(holdout_sql(params)))
"""

from __future__ import annotations

import math
from typing import Any, Final

import pyarrow as pa

from custodia.analytics.attribution import PATH_SEPARATOR, AttributionParams
from custodia.analytics.attribution_models import (
    HEURISTIC_MODELS,
    SHAPLEY_EXACT_MAX,
    ChannelCredit,
    JourneyPaths,
    heuristic_credit,
    markov_credit,
    shapley_credit,
)

__all__ = ["credit_table", "journey_paths", "journeys_summary", "lift_table"]

Z95: Final = 1.959963984540054

_CREDIT_SCHEMA: Final = pa.schema(
    [
        ("model", pa.string()),
        ("channel", pa.string()),
        ("conversions", pa.float64()),
        ("value", pa.float64()),
        ("share", pa.float64()),
        ("value_share", pa.float64()),
        ("removal_effect", pa.float64()),
        ("error_bound", pa.float64()),
    ]
)


def journey_paths(rows: pa.Table) -> JourneyPaths:
    """The models' input from the SQL rows (path, conversions, value, nulls)."""
    return JourneyPaths.from_lists(
        (p.split(PATH_SEPARATOR) for p in rows.column("path").to_pylist()),
        rows.column("conversions").to_pylist(),
        (v or 0.0 for v in rows.column("value").to_pylist()),
        rows.column("nulls").to_pylist(),
    )


def model_credit(
    model: str, paths: JourneyPaths, decay: pa.Table, params: AttributionParams
) -> dict[str, ChannelCredit]:
    """What one model credits to each channel."""
    if model in HEURISTIC_MODELS:
        return heuristic_credit(paths, model)
    if model == "markov":
        return markov_credit(paths, params.markov_order)
    if model == "shapley":
        return shapley_credit(paths, samples=params.shapley_samples, seed=params.seed)
    return {
        row["channel"]: ChannelCredit(row["conversions"], row["value"] or 0.0)
        for row in decay.to_pylist()
    }


def credit_table(paths: JourneyPaths, decay: pa.Table, params: AttributionParams) -> pa.Table:
    """One row per model and channel, channels by credited conversions (largest first)."""
    if paths.total_conversions <= 0:
        return _CREDIT_SCHEMA.empty_table()
    rows: list[dict[str, Any]] = []
    for model in params.models:
        credit = model_credit(model, paths, decay, params)
        ranked = sorted(credit.items(), key=lambda item: (-item[1].conversions, item[0]))
        rows += [_credit_row(model, channel, c, paths) for channel, c in ranked]
    return pa.Table.from_pylist(rows, schema=_CREDIT_SCHEMA)


def _credit_row(model: str, channel: str, c: ChannelCredit, paths: JourneyPaths) -> dict[str, Any]:
    total_value = paths.total_value
    return {
        "model": model,
        "channel": channel,
        "conversions": round(c.conversions, 9),
        "value": round(c.value, 6),
        "share": round(c.conversions / paths.total_conversions, 9),
        "value_share": round(c.value / total_value, 9) if total_value else None,
        "removal_effect": c.removal_effect,
        "error_bound": c.error_bound,
    }


_LIFT_SCHEMA: Final = pa.schema(
    [
        ("channel", pa.string()),
        ("exposed_people", pa.int64()),
        ("exposed_converted", pa.int64()),
        ("holdout_people", pa.int64()),
        ("holdout_converted", pa.int64()),
        ("exposed_rate", pa.float64()),
        ("holdout_rate", pa.float64()),
        ("lift", pa.float64()),
        ("incremental_conversions", pa.float64()),
        ("incremental_low", pa.float64()),
        ("incremental_high", pa.float64()),
        ("incremental_value", pa.float64()),
    ]
)


def lift_table(groups: pa.Table) -> pa.Table:
    """Incremental effect per channel from the holdout SQL rows (channel, held, people,
    converted, value): rate difference x exposed people, with a Wald 95% interval."""
    by_channel: dict[str, dict[int, dict[str, Any]]] = {}
    for row in groups.to_pylist():
        by_channel.setdefault(row["channel"], {})[int(row["held"])] = row
    rows = [_lift_row(channel, g.get(0), g.get(1)) for channel, g in sorted(by_channel.items())]
    return pa.Table.from_pylist(rows, schema=_LIFT_SCHEMA)


def _lift_row(channel: str, exposed: Any, held: Any) -> dict[str, Any]:
    n_e = int(exposed["people"]) if exposed else 0
    n_h = int(held["people"]) if held else 0
    c_e = int(exposed["converted"]) if exposed else 0
    c_h = int(held["converted"]) if held else 0
    row: dict[str, Any] = {
        "channel": channel,
        "exposed_people": n_e,
        "exposed_converted": c_e,
        "holdout_people": n_h,
        "holdout_converted": c_h,
    }
    if not (n_e and n_h):
        return row
    p_e, p_h = c_e / n_e, c_h / n_h
    diff = p_e - p_h
    half = Z95 * math.sqrt(p_e * (1 - p_e) / n_e + p_h * (1 - p_h) / n_h)
    value_per_person_e = float(exposed["value"] or 0) / n_e
    value_per_person_h = float(held["value"] or 0) / n_h
    return {
        **row,
        "exposed_rate": p_e,
        "holdout_rate": p_h,
        "lift": diff / p_h if p_h else None,
        "incremental_conversions": diff * n_e,
        "incremental_low": (diff - half) * n_e,
        "incremental_high": (diff + half) * n_e,
        "incremental_value": (value_per_person_e - value_per_person_h) * n_e,
    }


def journeys_summary(
    rows: pa.Table, totals: pa.Table, credit: pa.Table, params: AttributionParams
) -> dict[str, Any]:
    """Journeys, conversions (touched or not), distinct paths, channels, top paths, per-model
    totals and how Shapley was computed."""
    paths = journey_paths(rows)
    converted = sum(1 for c in paths.conversions if c > 0)
    total = totals.to_pylist()[0] if totals.num_rows else {"conversions": 0, "value": 0.0}
    journeys = paths.total_conversions + float(paths.nulls.sum())
    lengths = [len(p) * (c + n) for p, c, n in zip(paths.paths, paths.conversions, paths.nulls,
                                                    strict=True)]  # fmt: skip
    top = sorted(rows.to_pylist(), key=lambda r: (-r["conversions"], -r["nulls"], r["path"]))
    channels = paths.channels()
    widest = max((len(set(p)) for p, c in zip(paths.paths, paths.conversions, strict=True) if c),
                 default=0)  # fmt: skip
    exact = widest <= SHAPLEY_EXACT_MAX
    return {
        "journeys": int(journeys),
        "converting_journeys": int(paths.total_conversions),
        "null_journeys": int(paths.nulls.sum()),
        "distinct_paths": rows.num_rows,
        "converting_paths": converted,
        "mean_touches": round(sum(lengths) / journeys, 4) if journeys else 0.0,
        "channels": sorted(channels),
        "conversions": int(total["conversions"]),
        "conversion_value": round(float(total["value"] or 0), 2),
        "attributed_conversions": int(paths.total_conversions),
        "attributed_value": round(paths.total_value, 2),
        "unattributed_conversions": int(total["conversions"]) - int(paths.total_conversions),
        "top_paths": [
            {k: r[k] for k in ("path", "conversions", "nulls")} | {"value": round(r["value"], 2)}
            for r in top[: params.top_paths]
        ],
        "models": _model_totals(credit),
        "credit": [
            {k: row[k] for k in ("model", "channel", "share")}
            | {"conversions": round(row["conversions"], 4), "value": round(row["value"], 2)}
            for row in credit.to_pylist()
        ],
        "shapley": {
            "exact": exact,
            "widest_channel_set": widest,
            "samples": None if exact else params.shapley_samples,
            "seed": params.seed,
        },
    }


def _model_totals(credit: pa.Table) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for row in credit.to_pylist():
        got = out.setdefault(row["model"], {"conversions": 0.0, "value": 0.0})
        got["conversions"] = round(got["conversions"] + row["conversions"], 6)
        got["value"] = round(got["value"] + row["value"], 2)
    return out
