"""Realistic, reproducible multi-source demo data for the apparel brand "Lumière 霓裳".

Provenance: every record is synthetic. Nothing is copied from real people or real systems; names
come from frequency-weighted banks of common Chinese surnames, given-name characters and English
names, identifiers are generated to the published formats (GB 11643 resident IDs with a valid
MOD 11-2 checksum, GB/T 2260 region codes, mainland mobile prefixes), and texts are rendered from
template banks written for this package. A fixed calendar (2024-11-01 .. 2026-10-31, "today" is
2026-11-01) and seeded random streams make the output byte-identical for the same seed.

What it writes under ``out_dir``: a SQLite CRM (``crm/members.db``), online orders
(``ecommerce/orders.jsonl``), store POS exports (``pos/store_*.csv``), Segment batch files
(``clickstream/batch-*.json``), marketing touchpoints, service tickets and reviews, courier
deliveries, third-party enrichment, ``manifest.json`` and the ground truth (``ground_truth.json``
plus Parquet tables mapping every record to its true person, with per-person, per-order and
per-text truth). Data-quality and identity problems are injected on purpose and listed.

Example::

    from pathlib import Path
    from custodia.demo import generate_demo

    manifest = generate_demo(Path("demo-data"), customers=2_000, seed=7)
    for source in manifest.sources:
        print(source.name, source.format, source.path, source.records)
"""

from custodia.demo.chinese_ids import is_plausible_mobile, is_valid_resident_id
from custodia.demo.generator import GENERATOR_VERSION, ProgressCallback, generate_demo
from custodia.demo.models import (
    ChannelTruth,
    DemoManifest,
    DemoSource,
    GroundTruth,
    InjectedProblem,
    ProblemRecord,
    StoreOutage,
    TierTruth,
)

__all__ = [
    "GENERATOR_VERSION",
    "ChannelTruth",
    "DemoManifest",
    "DemoSource",
    "GroundTruth",
    "InjectedProblem",
    "ProblemRecord",
    "ProgressCallback",
    "StoreOutage",
    "TierTruth",
    "generate_demo",
    "is_plausible_mobile",
    "is_valid_resident_id",
]
