"""Customer clusters: K-means on scaled RFM (and optional numeric traits), k by silhouette,
labels that stay put between runs.

Each feature is transformed (``log1p`` for frequency, monetary and traits, which are skewed
counts and sums; recency as is), then standardized (mean 0, variance 1). K-means
(scikit-learn, ``n_init=4``, fixed ``random_state``) runs for the given ``k``, or for every k in
``k_min..k_max`` and keeps the one with the best silhouette. Above :data:`FIT_SAMPLE` profiles
the candidates are fitted on a random sample and the chosen k is refitted on everyone from the
sample's centroids; the silhouette is measured on at most ``sample_size`` profiles of it, whose
distances are computed once for every k.

Each cluster also lists its typical tags (:mod:`custodia.analytics.cluster_tags`).

Labels are numbers 1..k. A first run numbers clusters by size (largest first). A later run of the
same analysis name with the same features matches its centroids to the previous run's
(Hungarian assignment on the distance between centroids in the new run's scaled space,
``scipy.optimize.linear_sum_assignment``): a matched cluster keeps its label; clusters beyond the
previous k get the next free numbers. So "cluster 3" stays the same group of customers while
the data drifts.

Example::

    fit = fit_clusters(matrix, features, params)
    labels = stable_labels(fit, previous)        # previous: [PreviousCluster(label, centroid)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final

import numpy as np
from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from custodia.analytics.cluster_tags import TagRule
from custodia.analytics.rfm import RfmParams
from custodia.core.errors import ValidationError

__all__ = [
    "FIT_SAMPLE",
    "RFM_FEATURES",
    "ClusterFit",
    "ClusterParams",
    "PreviousCluster",
    "fit_clusters",
    "stable_labels",
    "transformed",
]

RFM_FEATURES: Final = ("recency_days", "frequency", "monetary")
_ALIASES: Final = {"recency": "recency_days", "rfm": None}
_AS_IS: Final = frozenset({"recency_days"})
FIT_SAMPLE: Final = 20_000
"""Above this many profiles, candidate k are fitted on a sample of this size."""
_FEATURE: Final = r"^[a-z][a-z0-9_]{0,62}$"


class ClusterParams(RfmParams):
    """RFM window and tiers (see :class:`RfmParams`) plus what to cluster and how."""

    k: int | None = Field(default=None, ge=2, le=50, description="Clusters (else by silhouette)")
    k_min: int = Field(default=2, ge=2, le=50, description="Smallest k tried")
    k_max: int = Field(default=8, ge=2, le=50, description="Largest k tried")
    features: list[Annotated[str, StringConstraints(pattern=_FEATURE)]] = Field(
        default_factory=lambda: ["rfm"],
        min_length=1,
        max_length=20,
        description="rfm (recency, frequency, monetary), any of them, or numeric trait names",
    )
    traits_name: Annotated[str, StringConstraints(pattern=_FEATURE)] = Field(
        default="traits", description="Analysis name of the traits run the traits come from"
    )
    top_tags: int = Field(
        default=5, ge=0, le=20, description="Typical tags listed per cluster (0: none)"
    )
    tag_min_share: float = Field(
        default=0.2, ge=0, le=1, description="Share of a cluster a typical tag must reach"
    )
    tag_min_lift: float = Field(
        default=1.2, ge=1, le=1000, description="Lift (share in cluster / share overall) it needs"
    )
    random_state: int = Field(default=0, ge=0, le=2**31 - 1)
    sample_size: int = Field(default=5_000, ge=100, le=10_000, description="Silhouette sample")

    @field_validator("k_max")
    @classmethod
    def _range_in_order(cls, k_max: int, info: ValidationInfo) -> int:
        if k_max < info.data.get("k_min", 2):
            raise ValueError("k_max must not be smaller than k_min")
        return k_max

    def feature_names(self) -> list[str]:
        """The features in order, ``rfm`` expanded, aliases resolved, each once."""
        out: list[str] = []
        for name in self.features:
            expanded = RFM_FEATURES if name == "rfm" else (_ALIASES.get(name) or name,)
            out += [n for n in expanded if n not in out]
        return out

    def trait_names(self) -> list[str]:
        return [n for n in self.feature_names() if n not in RFM_FEATURES]

    def tag_rule(self) -> TagRule:
        """How the typical tags of each cluster are chosen (:mod:`.cluster_tags`)."""
        return TagRule(self.top_tags, self.tag_min_share, self.tag_min_lift)


@dataclass(frozen=True)
class PreviousCluster:
    """A cluster of the previous run: its label and centroid in transformed (unscaled) units."""

    label: int
    centroid: dict[str, float]


@dataclass(frozen=True)
class ClusterFit:
    features: tuple[str, ...]
    k: int
    assignments: np.ndarray
    """Cluster index (0..k-1) per profile."""
    distances: np.ndarray
    """Distance of each profile to its centroid, in scaled units."""
    centroids: np.ndarray
    """k x features, in scaled units."""
    mean: np.ndarray
    scale: np.ndarray
    silhouettes: dict[int, float]
    chosen_by: str

    def scaled(self, transformed_rows: np.ndarray) -> np.ndarray:
        out: np.ndarray = (transformed_rows - self.mean) / self.scale
        return out


def transformed(features: Sequence[str], matrix: np.ndarray) -> np.ndarray:
    """``log1p`` on every feature but recency (negative values are clipped to 0 first)."""
    out = matrix.astype(np.float64, copy=True)
    for j, name in enumerate(features):
        if name not in _AS_IS:
            out[:, j] = np.log1p(np.clip(out[:, j], 0, None))
    return out


def fit_clusters(features: Sequence[str], matrix: np.ndarray, params: ClusterParams) -> ClusterFit:
    """K-means over ``matrix`` (profiles x features, original units).

    One BLAS/OpenMP thread: the matrices are narrow (a few features), so threads buy little,
    and on a busy machine OpenMP's spinning threads made the same fits 25x slower (measured:
    7 candidate k on 20,000 profiles, 25.7 s with the default pool, 0.9 s with one thread)."""
    import sklearn.cluster  # type: ignore[import-untyped]  # loaded first: the limit covers it
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    del sklearn
    with threadpool_limits(limits=1):
        return _fit_clusters(features, matrix, params)


def _fit_clusters(features: Sequence[str], matrix: np.ndarray, params: ClusterParams) -> ClusterFit:
    n = matrix.shape[0]
    values = transformed(features, matrix)
    mean = values.mean(axis=0) if n else np.zeros(len(features))
    scale = values.std(axis=0) if n else np.ones(len(features))
    scale[scale == 0] = 1.0
    x = (values - mean) / scale
    distinct = _distinct(x)
    rng = np.random.default_rng(params.random_state)
    fit_rows = _sample(n, FIT_SAMPLE, rng)
    sample = x if fit_rows is None else x[fit_rows]
    if params.k is not None:
        _check_k(params.k, n, distinct)
        candidates = {params.k: _kmeans(sample, params.k, params)}
        scored = candidates if params.k < distinct else {}
        k, chosen_by = params.k, "given"
    else:
        candidates = {k: _kmeans(sample, k, params) for k in _k_range(distinct, params)}
        scored = candidates
        chosen_by = "silhouette"
    silhouettes = _silhouettes(sample, {k: m.labels_ for k, m in scored.items()}, params, rng)
    if params.k is None:
        k = max(silhouettes, key=lambda c: (silhouettes[c], -c))  # a tie: the smaller k
    model = candidates[k]
    if fit_rows is not None:  # refit the chosen k on everyone from the sample's centroids
        model = _kmeans(x, k, params, init=model.cluster_centers_)
    assignments = model.labels_.astype(np.int64)
    distances = np.linalg.norm(x - model.cluster_centers_[assignments], axis=1)
    return ClusterFit(
        features=tuple(features),
        k=k,
        assignments=assignments,
        distances=distances,
        centroids=model.cluster_centers_,
        mean=mean,
        scale=scale,
        silhouettes=silhouettes,
        chosen_by=chosen_by,
    )


def _distinct(x: np.ndarray, enough: int = 64) -> int:
    """Distinct rows of ``x``, exact below ``enough`` (more than any k): a first slice usually
    shows there are plenty, sparing a sort of every row."""
    head = np.unique(x[:10_000], axis=0).shape[0] if x.shape[0] else 0
    return head if head >= enough or x.shape[0] <= 10_000 else np.unique(x, axis=0).shape[0]


def _check_k(k: int, n: int, distinct: int) -> None:
    if k > n:
        raise ValidationError("k", "at_most_profiles", f"k: {k} is larger than the number of "
                              f"profiles measured ({n}); lower k or widen the window")  # fmt: skip
    if k > distinct:
        raise ValidationError("k", "at_most_distinct", f"k: {k} is larger than the number of "
                              f"distinct feature points ({distinct})")  # fmt: skip


def _k_range(distinct: int, params: ClusterParams) -> range:
    """k_min..k_max, at most distinct points - 1 (the silhouette needs it)."""
    k_max = min(params.k_max, distinct - 1)
    if k_max < params.k_min:
        raise ValidationError(
            "k_min", "at_most_profiles",
            f"k_min: choosing k from {params.k_min} needs at least {params.k_min + 1} profiles "
            f"with distinct feature values; there are {distinct}",
        )  # fmt: skip
    return range(params.k_min, k_max + 1)


def _kmeans(x: np.ndarray, k: int, params: ClusterParams, init: np.ndarray | None = None) -> Any:
    from sklearn.cluster import KMeans  # imported when used

    if init is not None:
        return KMeans(n_clusters=k, init=init, n_init=1, random_state=params.random_state).fit(x)
    return KMeans(n_clusters=k, n_init=4, random_state=params.random_state).fit(x)


def _silhouettes(
    x: np.ndarray, labels: dict[int, np.ndarray], params: ClusterParams, rng: np.random.Generator
) -> dict[int, float]:
    """The silhouette of each labelling, on one sample of ``x`` whose distances are computed
    once (``sample_size`` points at most: a float32 matrix of 400 MB at 10,000)."""
    if not labels:
        return {}
    from sklearn.metrics import pairwise_distances, silhouette_score  # type: ignore[import-untyped]

    rows = _sample(x.shape[0], params.sample_size, rng)
    points = x if rows is None else x[rows]
    distances = pairwise_distances(points.astype(np.float32))
    out = {}
    for k, found in labels.items():
        picked = found if rows is None else found[rows]
        groups = len(np.unique(picked))
        usable = 2 <= groups < len(picked)
        score = silhouette_score(distances, picked, metric="precomputed") if usable else np.nan
        out[k] = round(float(score), 6)
    return out


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray | None:
    return None if n <= size else np.sort(rng.choice(n, size=size, replace=False))


def stable_labels(fit: ClusterFit, previous: Sequence[PreviousCluster]) -> np.ndarray:
    """Label (1..) of each cluster index: the previous run's label of the nearest matching
    centroid (Hungarian assignment), else the next free number, larger clusters first."""
    sizes = np.bincount(fit.assignments, minlength=fit.k)
    order = sorted(range(fit.k), key=lambda i: (-sizes[i], tuple(fit.centroids[i])))
    labels = np.zeros(fit.k, dtype=np.int64)
    usable = [p for p in previous if set(p.centroid) == set(fit.features)]
    if usable and len(usable) == len(previous):
        old = fit.scaled(np.array([[p.centroid[f] for f in fit.features] for p in usable]))
        cost = np.linalg.norm(fit.centroids[:, None, :] - old[None, :, :], axis=2)
        from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

        rows, cols = linear_sum_assignment(cost)
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            labels[i] = usable[j].label
    free = (n for n in range(1, 10**6) if n not in set(labels.tolist()))
    for i in order:
        if labels[i] == 0:
            labels[i] = next(free)
    return labels
