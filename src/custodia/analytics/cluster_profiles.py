"""What each cluster is: size, centroid in original units, typical RFM tier and typical tags,
and the tables.

Example::

    assigned, profiles, summary = cluster_results(rfm_rows, features, matrix, fit, labels, tags)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from custodia.analytics.cluster_tags import TypicalTag
from custodia.analytics.clusters import RFM_FEATURES, ClusterFit, transformed
from custodia.core.arrow_values import float_values

__all__ = ["cluster_results"]


def cluster_results(
    rfm_rows: pa.Table, features: Sequence[str], matrix: np.ndarray, fit: ClusterFit,
    labels: np.ndarray, tags: Mapping[int, list[TypicalTag]] | None = None,
) -> tuple[pa.Table, pa.Table, dict[str, Any]]:  # fmt: skip
    """Per profile (``analysis_clusters``), per cluster (``analysis_cluster_profiles``) and a
    summary. ``rfm_rows`` are the RFM rows (with ``tier``) in the order of ``matrix``; ``tags``
    the typical tags per cluster label (None: no traits were computed, the column stays null)."""
    label_of = labels[fit.assignments]
    tier_names, tiers = np.unique(
        np.asarray(rfm_rows.column("tier").to_pylist(), dtype=object).astype(str),
        return_inverse=True,
    )
    assigned = pa.table(
        {
            "profile_id": rfm_rows.column("profile_id"),
            "cluster": pa.array(label_of, pa.int32()),
            "distance": pa.array(np.round(fit.distances, 6), pa.float64()),
            "tier": rfm_rows.column("tier"),
        }
    )
    rfm = np.column_stack(
        [float_values(rfm_rows.column(c)) for c in RFM_FEATURES]
    ) if rfm_rows.num_rows else np.zeros((0, 3))  # fmt: skip
    model_units = transformed(features, matrix)
    rows = [
        _cluster_row(
            int(labels[i]),
            fit.assignments == i,
            (tier_names, tiers),
            rfm,
            features,
            matrix,
            model_units,
        )
        for i in np.argsort(labels)
    ]
    for row in rows:
        found = None if tags is None else [t.as_dict() for t in tags.get(row["cluster"], [])]
        row["typical_tags"] = None if found is None else json.dumps(found, ensure_ascii=False)
        row["_tags"] = found or []
    profiles = pa.Table.from_pylist(rows, schema=_PROFILE_SCHEMA)
    summary = {
        "profiles": rfm_rows.num_rows,
        "k": fit.k,
        "chosen_by": fit.chosen_by,
        "silhouettes": {str(k): v for k, v in sorted(fit.silhouettes.items())},
        "silhouette": fit.silhouettes.get(fit.k),
        "features": list(features),
        "clusters": [
            {k: r[k] for k in ("cluster", "profiles", "share", "typical_tier", *RFM_FEATURES)}
            | {"typical_tags": r["_tags"]}
            for r in rows
        ],
    }
    return assigned, profiles, summary


_PROFILE_SCHEMA = pa.schema(
    [
        ("cluster", pa.int32()),
        ("profiles", pa.int64()),
        ("share", pa.float64()),
        ("recency_days", pa.float64()),
        ("frequency", pa.float64()),
        ("monetary", pa.float64()),
        ("centroid", pa.large_string()),
        ("model_centroid", pa.large_string()),
        ("typical_tier", pa.string()),
        ("typical_tier_share", pa.float64()),
        ("tiers", pa.large_string()),
        ("typical_tags", pa.large_string()),
    ]
)


def _cluster_row(
    label: int, members: np.ndarray, tiers: tuple[np.ndarray, np.ndarray], rfm: np.ndarray,
    features: Sequence[str], matrix: np.ndarray, model_units: np.ndarray,
) -> dict[str, Any]:  # fmt: skip
    size = int(members.sum())
    names, codes = tiers
    per_tier = np.bincount(codes[members], minlength=len(names))
    counts = Counter({str(names[i]): int(n) for i, n in enumerate(per_tier.tolist()) if n})
    typical, typical_n = min(counts.items(), key=lambda kv: (-kv[1], kv[0]), default=(None, 0))
    means = rfm[members].mean(axis=0) if size else np.full(3, np.nan)
    return {
        "cluster": label,
        "profiles": size,
        "share": round(size / len(members), 6),
        **{c: round(float(v), 4) for c, v in zip(RFM_FEATURES, means, strict=True)},
        "centroid": _json(features, matrix[members].mean(axis=0)),
        "model_centroid": _json(features, model_units[members].mean(axis=0)),
        "typical_tier": typical,
        "typical_tier_share": round(typical_n / size, 6) if size else None,
        "tiers": json.dumps(dict(counts.most_common()), ensure_ascii=False),
    }


def _json(features: Sequence[str], values: np.ndarray) -> str:
    return json.dumps({f: round(float(v), 6) for f, v in zip(features, values, strict=True)})
