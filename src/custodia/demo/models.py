"""Result records of the demo generator: the manifest and the ground truth.

Why: the CLI, the tutorials and the scoring code read ``manifest.json`` and ``ground_truth.json``
back; typed models keep writer and readers in agreement.

Example::

    manifest = DemoManifest.model_validate_json((out / "manifest.json").read_text("utf-8"))
    manifest.source("crm_members").path      # 'crm/members.db'
    truth = GroundTruth.model_validate_json((out / "ground_truth.json").read_text("utf-8"))
    truth.problem("duplicated_pos_uploads").count
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SourceFormat = Literal["sqlite", "jsonl", "csv", "segment_batch"]
Entity = Literal[
    "customers",
    "loyalty_points",
    "orders",
    "pos_receipts",
    "events",
    "touchpoints",
    "tickets",
    "reviews",
    "deliveries",
    "enrichment",
]


class DemoSource(BaseModel):
    """One source system's export as written under the output directory."""

    model_config = ConfigDict(frozen=True)

    name: str
    format: SourceFormat
    path: str = Field(description="Path relative to the output directory, or a glob.")
    entity: Entity
    records: int = Field(description="Rows, lines or events written (duplicates included).")
    files: int
    table: str | None = Field(default=None, description="Table name for sqlite sources.")
    encoding: str = "utf-8"
    timezone: str = Field(description="Zone of naive timestamps, or UTC for ISO-8601 'Z' times.")
    description: str


class DemoManifest(BaseModel):
    """What a demo run wrote: parameters, sources and where the ground truth is."""

    model_config = ConfigDict(frozen=True)

    seed: int
    customers: int
    generator_version: str
    window_start: str
    window_end: str
    today: str
    inject_outage: bool
    sources: list[DemoSource]
    ground_truth: str
    ground_truth_files: list[str]

    def source(self, name: str) -> DemoSource:
        """The source called ``name``; raises ``KeyError`` naming the known sources."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(f"unknown demo source {name!r}; known: {[s.name for s in self.sources]}")


class ProblemRecord(BaseModel):
    """One affected record: its key in the source, the kind of defect and a detail."""

    model_config = ConfigDict(frozen=True)

    key: str
    kind: str
    detail: str = ""


class InjectedProblem(BaseModel):
    """A data-quality or identity problem injected on purpose, with every affected record."""

    model_config = ConfigDict(frozen=True)

    name: str
    source: str
    description: str
    count: int
    records: list[ProblemRecord]


class ChannelTruth(BaseModel):
    """A marketing channel's true parameters and what the run realised."""

    model_config = ConfigDict(frozen=True)

    channel: str
    identifier: str
    impressions_per_year: float
    click_through_rate: float
    incremental_conversion_rate_per_click: float
    mean_lag_days: float
    max_lag_days: float
    cost_per_impression: float
    cost_per_click: float
    impressions: int
    clicks: int
    non_causal_clicks: int
    incremental_orders: int
    spend: float


class TierTruth(BaseModel):
    """Repurchase and limited-edition behaviour of one latent value tier."""

    model_config = ConfigDict(frozen=True)

    tier: str
    people: int
    mean_gap_days: float
    mean_gap_days_last_six_months: float
    limited_edition_share: float
    limited_edition_share_last_six_months: float
    purchases: int


class StoreOutage(BaseModel):
    """A store whose POS uploads stopped: nothing from ``uploads_stop_on`` onwards was exported."""

    model_config = ConfigDict(frozen=True)

    store_id: str
    uploads_stop_on: str
    receipts_lost: int
    lines_lost: int


class GroundTruth(BaseModel):
    """Everything the generator knows that the sources do not say."""

    seed: int
    customers: int
    visitors: int
    window_start: str
    window_end: str
    today: str
    last_six_months_start: str
    member_level_thresholds: dict[str, float]
    tiers: list[TierTruth]
    churned_people: int
    channels: list[ChannelTruth]
    delivery: dict[str, float]
    outage: StoreOutage | None
    problems: list[InjectedProblem]
    problem_counts: dict[str, int]
    missing_fields: dict[str, dict[str, int]] = Field(
        description="Per source and field, how many records leave it empty."
    )
    files: dict[str, str]

    def problem(self, name: str) -> InjectedProblem:
        """The injected problem called ``name``; raises ``KeyError`` naming the known ones."""
        for problem in self.problems:
            if problem.name == name:
                return problem
        raise KeyError(f"unknown problem {name!r}; known: {[p.name for p in self.problems]}")
