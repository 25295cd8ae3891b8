"""Typical tags of customer clusters: the computed-trait tags a cluster carries more than the rest.

A tag's **share** in a cluster is the part of the cluster's profiles carrying it (a profile the
traits run has no row for carries no tag); its **lift** is that share over the tag's share among
all clustered profiles. A tag is *typical* of a cluster when

- at least :data:`TAG_MIN_PROFILES` of the cluster's profiles carry it (the result speaks of
  groups, never of a handful of people),
- its share in the cluster is at least ``min_share`` (it describes a good part of the cluster),
- its lift is at least ``min_lift`` (the cluster carries it more than everyone does: a tag most
  customers carry has a lift near 1 and does not describe any one cluster).

The typical tags of a cluster are the ``top`` of those by lift, then share, then tag (so ties are
stable). Counting is done by the engine (tag x cluster); this module only ranks the counts.

Example::

    rule = TagRule(top=5, min_share=0.2, min_lift=1.2)
    typical = typical_tags([(1, "女性", 40), (2, "女性", 10)], {1: 60, 2: 40}, rule)
    typical[1][0]   # TypicalTag(tag='女性', profiles=40, share=0.666667, lift=1.333333)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

__all__ = ["TAG_MIN_PROFILES", "TagRule", "TypicalTag", "typical_tags"]

TAG_MIN_PROFILES: Final = 5
"""Fewest profiles of a cluster that must carry a tag for it to be reported (not a parameter:
it keeps the per-cluster aggregate from describing one or two people)."""


@dataclass(frozen=True)
class TagRule:
    """How typical tags are chosen (see the module docstring)."""

    top: int = 5
    min_share: float = 0.2
    min_lift: float = 1.2
    min_profiles: int = TAG_MIN_PROFILES


@dataclass(frozen=True)
class TypicalTag:
    tag: str
    profiles: int
    """Profiles of the cluster carrying the tag."""
    share: float
    """profiles / profiles in the cluster."""
    lift: float
    """share / the tag's share among all clustered profiles."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def typical_tags(
    carriers: Iterable[tuple[int, str, int]], sizes: Mapping[int, int], rule: TagRule
) -> dict[int, list[TypicalTag]]:
    """The typical tags of every cluster in ``sizes`` (label -> profiles), best first.

    ``carriers`` holds ``(cluster, tag, profiles carrying the tag in the cluster)``; a cluster
    with no typical tag gets an empty list."""
    per_cluster: dict[int, dict[str, int]] = defaultdict(dict)
    overall: dict[str, int] = defaultdict(int)
    for cluster, tag, profiles in carriers:
        if cluster in sizes and profiles > 0:
            per_cluster[cluster][tag] = per_cluster[cluster].get(tag, 0) + profiles
            overall[tag] += profiles
    everyone = sum(sizes.values())
    return {
        cluster: _ranked(per_cluster.get(cluster, {}), size, overall, everyone, rule)
        for cluster, size in sizes.items()
    }


def _ranked(
    counts: Mapping[str, int], size: int, overall: Mapping[str, int], everyone: int, rule: TagRule
) -> list[TypicalTag]:
    if rule.top <= 0 or size <= 0:
        return []
    found = []
    for tag, n in counts.items():
        share = n / size
        lift = share / (overall[tag] / everyone)
        if n >= rule.min_profiles and share >= rule.min_share and lift >= rule.min_lift:
            found.append(TypicalTag(tag, n, round(share, 6), round(lift, 6)))
    found.sort(key=lambda t: (-t.lift, -t.share, t.tag))
    return found[: rule.top]
