"""Curated tables the analyses write (issue 8): one or more per analysis.

Every row carries ``analysis_name`` (the name a run was given; ``rfm`` unless the user names it,
so several funnels can live side by side), ``analysis_id`` (the run that produced it; its
parameters are stored with the run, see ``custodia runs``) and ``computed_at``. A new run of a
name replaces that name's rows; Delta time travel keeps the earlier results. Declared here, next
to the customer data model of :mod:`custodia.core.tables`, so storage, the catalog and
``docs/data-model.md`` know them. Add a table with :func:`analysis_table` and list it in
:data:`ANALYSIS_TABLES`.
"""

from __future__ import annotations

import pyarrow as pa

from custodia.core.table_model import JSON, L1, L2, MONEY, TS, ColumnSpec, S, TableSpec, _c
from custodia.core.types import Domain, Zone

__all__ = ["ANALYSIS_COLUMNS", "ANALYSIS_TABLES", "analysis_table"]

ANALYSIS_COLUMNS = ("analysis_name", "analysis_id", "computed_at")
"""Columns the runner adds to every result row (see pipeline.analysis_runs)."""


def analysis_table(
    name: str, description: str, columns: tuple[ColumnSpec, ...], key: tuple[str, ...]
) -> TableSpec:
    """A curated analysis result table: the run columns, then ``columns``; ``key`` is unique
    within one analysis name."""
    return TableSpec(
        name=name,
        zone=Zone.CURATED,
        domain=Domain.ANALYTICS,
        description=description,
        columns=(
            _c(
                "analysis_name",
                S,
                L1,
                "Name of the analysis run (several may coexist)",
                nullable=False,
            ),
            _c(
                "analysis_id",
                S,
                L1,
                "Run that computed the row (parameters: custodia runs)",
                nullable=False,
            ),
            *columns,
            _c("computed_at", TS, L1, "When the run computed it"),
        ),
        key=("analysis_name", *key),
        owner="analytics",
        time_column="computed_at",
    )


ANALYSIS_RFM = analysis_table(
    "analysis_rfm",
    "RFM per profile over a window of orders: recency, frequency, monetary, scores 1-5 (equal "
    "values, equal scores) and the tier of the score cell (docs/analytics-rfm.md).",
    (
        _c("profile_id", S, L1, "Live profile", nullable=False),
        _c("recency_days", pa.int32(), L1, "Days from the last order's date to the window's end"),
        _c("frequency", pa.int32(), L1, "Orders in the window"),
        _c("monetary", MONEY, L2, "Sum of the orders' total_amount", personal=True),
        _c("first_order_at", TS, L1, "First order in the window"),
        _c("last_order_at", TS, L1, "Last order in the window"),
        _c("r_score", pa.int32(), L1, "Recency score 1-5 (5: most recent)"),
        _c("f_score", pa.int32(), L1, "Frequency score 1-5 (5: most orders)"),
        _c("m_score", pa.int32(), L1, "Monetary score 1-5 (5: spent most)"),
        _c("rfm_cell", S, L1, "The three scores, e.g. 545"),
        _c("tier", S, L1, "Name of the first tier holding the cell"),
        _c("tier_label", S, L1, "The tier's English label"),
    ),
    ("profile_id",),
)

ANALYSIS_RFM_TIERS = analysis_table(
    "analysis_rfm_tiers",
    "RFM tiers of a run: profiles, share and value per tier, in the tier file's order.",
    (
        _c("tier", S, L1, "Tier name", nullable=False),
        _c("tier_label", S, L1, "English label"),
        _c("position", pa.int32(), L1, "Order in the tier file (first match wins)"),
        _c("profiles", pa.int64(), L1, "Profiles in the tier"),
        _c("share", pa.float64(), L1, "Share of the profiles measured"),
        _c("monetary", pa.decimal128(18, 2), L1, "Sum of the tier's monetary value"),
        _c("avg_monetary", pa.float64(), L1, "Mean monetary value"),
        _c("avg_recency_days", pa.float64(), L1, "Mean recency in days"),
        _c("avg_frequency", pa.float64(), L1, "Mean orders"),
    ),
    ("tier",),
)

ANALYSIS_CLUSTERS = analysis_table(
    "analysis_clusters",
    "Customer clusters: the cluster of each profile (K-means on scaled RFM and optional traits; "
    "labels kept between runs), its distance to the centroid and its RFM tier "
    "(docs/analytics-clusters.md).",
    (
        _c("profile_id", S, L1, "Live profile", nullable=False),
        _c("cluster", pa.int32(), L1, "Cluster label (1..; stable between runs of a name)"),
        _c("distance", pa.float64(), L1, "Distance to the cluster centroid (scaled units)"),
        _c("tier", S, L1, "RFM tier of the profile in the same window"),
    ),
    ("profile_id",),
)

ANALYSIS_CLUSTER_PROFILES = analysis_table(
    "analysis_cluster_profiles",
    "What each cluster is: size, share, mean RFM, centroid in original units, typical tier and "
    "typical tags (docs/analytics-clusters.md).",
    (
        _c("cluster", pa.int32(), L1, "Cluster label", nullable=False),
        _c("profiles", pa.int64(), L1, "Profiles in the cluster"),
        _c("share", pa.float64(), L1, "Share of the profiles clustered"),
        _c("recency_days", pa.float64(), L1, "Mean recency in days"),
        _c("frequency", pa.float64(), L1, "Mean orders"),
        _c("monetary", pa.float64(), L1, "Mean monetary value"),
        _c("centroid", JSON, L1, "Feature -> mean in original units (JSON)"),
        _c("model_centroid", JSON, L1, "Feature -> mean after log1p (JSON; matches later runs)"),
        _c("typical_tier", S, L1, "Most frequent RFM tier in the cluster"),
        _c("typical_tier_share", pa.float64(), L1, "Share of the cluster in that tier"),
        _c("tiers", JSON, L1, "Tier -> profiles in the cluster (JSON)"),
        _c(
            "typical_tags",
            JSON,
            L1,
            "Typical computed-trait tags: [{tag, profiles, share, lift}] (JSON; each carried by "
            "at least 5 profiles; null: no traits run)",
        ),
    ),
    ("cluster",),
)

ANALYSIS_FUNNEL = analysis_table(
    "analysis_funnel",
    "Funnel conversion per step, overall (segment '(all)') and per breakdown group: people "
    "reaching each step, conversion and time to convert (docs/analytics-funnel.md).",
    (
        _c("segment", S, L1, "Breakdown group ('(all)': everyone, '(none)': no value)"),
        _c("step", pa.int32(), L1, "Step number, 1 = the first"),
        _c("step_label", S, L1, "Event of the step, with its property filters"),
        _c("persons", pa.int64(), L1, "People who reached the step"),
        _c("dropped", pa.int64(), L1, "People who reached the previous step but not this one"),
        _c("conversion_from_previous", pa.float64(), L1, "persons / persons of the previous step"),
        _c("conversion_overall", pa.float64(), L1, "persons / persons of step 1"),
        _c("median_seconds", pa.float64(), L1, "Median seconds from the previous step"),
        _c("avg_seconds", pa.float64(), L1, "Mean seconds from the previous step"),
        _c("median_seconds_from_start", pa.float64(), L1, "Median seconds from the start"),
        _c("largest_dropoff", pa.bool_(), L1, "The step with the lowest step conversion"),
    ),
    ("segment", "step"),
)

ANALYSIS_PATHS = analysis_table(
    "analysis_paths",
    "Paths from a start event or to an end event within sessions: Sankey nodes and links by "
    "step, and the most frequent whole paths (docs/analytics-paths.md).",
    (
        _c("kind", S, L1, "node | link | path", nullable=False),
        _c("step", pa.int32(), L1, "Step index (0 = the start; negative before the end)"),
        _c("source", S, L1, "Node label (a link's source)"),
        _c("target", S, L1, "A link's target label ('(end)': the session ended)"),
        _c("path", S, L1, "A whole path, labels joined by ' > '"),
        _c("rank", pa.int32(), L1, "Rank of a path by sessions (1 = most frequent)"),
        _c("sessions", pa.int64(), L1, "Sessions through the node, link or path"),
        _c("persons", pa.int64(), L1, "Distinct people among those sessions"),
        _c("share", pa.float64(), L1, "sessions / sessions at the start (or end) event"),
    ),
    ("kind", "step", "source", "target", "rank"),
)

ANALYSIS_HEATMAP = analysis_table(
    "analysis_heatmap",
    "Clicks by page element (Element Clicked) and attention (page/screen views, clicks) by "
    "weekday and hour in a named time zone (docs/analytics-heatmap.md).",
    (
        _c("kind", S, L1, "element | hour", nullable=False),
        _c("timezone", S, L1, "Time zone of weekday and hour (IANA name)"),
        _c("page", S, L1, "Page path ('(all)': every page)"),
        _c("element_id", S, L1, "Clicked element id"),
        _c("element_type", S, L1, "Element type (button, link, ...)"),
        _c("element_text", S, L1, "Element text as shown"),
        _c("weekday", pa.int32(), L1, "ISO weekday 1 = Monday .. 7 = Sunday"),
        _c("hour", pa.int32(), L1, "Hour of the day 0-23"),
        _c("clicks", pa.int64(), L1, "Element Clicked events"),
        _c("views", pa.int64(), L1, "Page and screen views"),
        _c("persons", pa.int64(), L1, "Distinct people"),
        _c("click_share", pa.float64(), L1, "Share of the page's clicks"),
        _c("avg_x_ratio", pa.float64(), L1, "Mean click x / viewport width"),
        _c("avg_y_ratio", pa.float64(), L1, "Mean click y / viewport height"),
    ),
    ("kind", "timezone", "page", "element_id", "weekday", "hour"),
)

ANALYSIS_RETENTION = analysis_table(
    "analysis_retention",
    "Cohort retention: per cohort period and period offset, the cohort's profiles and how many "
    "were active again (cumulative or not; docs/analytics-retention.md).",
    (
        _c("cohort_start", pa.date32(), L1, "First day of the cohort's period (UTC)"),
        _c("period_offset", pa.int32(), L1, "Periods after the cohort period (0 = the cohort)"),
        _c("cohort_size", pa.int64(), L1, "Profiles in the cohort"),
        _c("retained", pa.int64(), L1, "Profiles active at the offset (by it, if cumulative)"),
        _c("retention_rate", pa.float64(), L1, "retained / cohort_size"),
    ),
    ("cohort_start", "period_offset"),
)

ANALYSIS_REPURCHASE = analysis_table(
    "analysis_repurchase",
    "Repurchase cycles per tier and period: each purchase day starts a spell, counted in the "
    "month or quarter it starts, that ends at the next purchase day (a repurchase) or is "
    "censored at as_of; plain statistics of the gaps seen and Kaplan-Meier estimates over all "
    "spells (docs/analytics-retention.md).",
    (
        _c("group_value", S, L1, "Tier of the profiles ('(none)': no tier)"),
        _c("period_start", pa.date32(), L1, "First day of the month or quarter the spells start"),
        _c("repurchases", pa.int64(), L1, "Spells that ended in a repurchase by as_of"),
        _c("customers", pa.int64(), L1, "Profiles with a purchase day in the period"),
        _c("mean_gap_days", pa.float64(), L1, "Mean gap (days) of the repurchases seen"),
        _c("median_gap_days", pa.float64(), L1, "Median gap (days) of the repurchases seen"),
        _c("p75_gap_days", pa.float64(), L1, "75th percentile gap (days) of those"),
        _c("spells", pa.int64(), L1, "Purchase days starting a spell (repurchases + censored)"),
        _c("censored_spells", pa.int64(), L1, "Spells with no repurchase up to as_of"),
        _c(
            "km_median_gap_days",
            pa.float64(),
            L1,
            "Kaplan-Meier median days to the next purchase (censoring aware); null when the "
            "curve does not reach 0.5",
        ),
        _c(
            "km_restricted_mean_gap_days",
            pa.float64(),
            L1,
            "Kaplan-Meier mean of min(gap, horizon_days); null: no spell followed so long",
        ),
    ),
    ("group_value", "period_start"),
)

ANALYSIS_REPURCHASE_INTERESTS = analysis_table(
    "analysis_repurchase_interests",
    "What the tiers bought per period: lines and orders per category and of limited editions, "
    "with their shares of the tier's lines and orders (docs/analytics-retention.md).",
    (
        _c("group_value", S, L1, "Tier of the profiles ('(none)': no tier)"),
        _c("period_start", pa.date32(), L1, "First day of the month or quarter"),
        _c("interest_kind", S, L1, "category | limited_edition"),
        _c("interest", S, L1, "Category name, or 'limited'"),
        _c("lines", pa.int64(), L1, "Order lines of the interest"),
        _c("orders", pa.int64(), L1, "Orders with at least one such line"),
        _c("line_share", pa.float64(), L1, "lines / all lines of the tier in the period"),
        _c("order_share", pa.float64(), L1, "orders / all orders of the tier in the period"),
    ),
    ("group_value", "period_start", "interest_kind", "interest"),
)

_TAGS = pa.list_(pa.string())

ANALYSIS_PROFILE_TRAITS = analysis_table(
    "analysis_profile_traits",
    "Computed traits and tags per profile from the traits spec (HOME/analytics/traits.yaml): "
    "the trait map as JSON, every tag, and the identity / need / value tags apart; recomputed "
    "incrementally (docs/analytics-traits.md).",
    (
        _c("profile_id", S, L1, "Live profile", nullable=False),
        _c("as_of", pa.date32(), L1, "Date the windows end on (inclusive)"),
        _c("traits", JSON, L2, "Trait name -> value (JSON object)", personal=True),
        _c("tags", _TAGS, L2, "Every tag: identity, then need, then value", personal=True),
        _c("identity_tags", _TAGS, L2, "Who: tier, gender, age band, region", personal=True),
        _c("need_tags", _TAGS, L2, "Wants: categories, complaints, interests", personal=True),
        _c("value_tags", _TAGS, L2, "Worth: value band, price sensitivity", personal=True),
    ),
    ("profile_id",),
)

ANALYSIS_ATTRIBUTION = analysis_table(
    "analysis_attribution",
    "Conversions and value credited to each marketing channel by each attribution model "
    "(first, last, linear, position, time_decay, markov, shapley) over touchpoint journeys "
    "(docs/analytics-attribution.md).",
    (
        _c("model", S, L1, "Attribution model", nullable=False),
        _c("channel", S, L1, "Marketing channel", nullable=False),
        _c("conversions", pa.float64(), L1, "Conversions credited to the channel"),
        _c("value", pa.float64(), L1, "Conversion value (order totals) credited"),
        _c("share", pa.float64(), L1, "Share of the attributed conversions"),
        _c("value_share", pa.float64(), L1, "Share of the attributed value"),
        _c("removal_effect", pa.float64(), L1, "Markov: conversions lost without the channel"),
        _c("error_bound", pa.float64(), L1, "Shapley sampled: 95% bound on conversions"),
    ),
    ("model", "channel"),
)

ANALYSIS_ATTRIBUTION_LIFT = analysis_table(
    "analysis_attribution_lift",
    "Incremental conversions per channel from holdout groups (touchpoints with interaction "
    "'holdout'): exposed vs held-out conversion rates, lift and a 95% interval.",
    (
        _c("channel", S, L1, "Marketing channel with a holdout group", nullable=False),
        _c("exposed_people", pa.int64(), L1, "People exposed to the channel"),
        _c("exposed_converted", pa.int64(), L1, "Of them, converted within the lookback"),
        _c("holdout_people", pa.int64(), L1, "People held out"),
        _c("holdout_converted", pa.int64(), L1, "Of them, converted within the lookback"),
        _c("exposed_rate", pa.float64(), L1, "Conversion rate of the exposed"),
        _c("holdout_rate", pa.float64(), L1, "Conversion rate of the held out"),
        _c("lift", pa.float64(), L1, "exposed_rate / holdout_rate - 1"),
        _c("incremental_conversions", pa.float64(), L1, "(rate difference) x exposed people"),
        _c("incremental_low", pa.float64(), L1, "Lower end of its 95% interval"),
        _c("incremental_high", pa.float64(), L1, "Upper end of its 95% interval"),
        _c("incremental_value", pa.float64(), L1, "(value per person difference) x exposed"),
    ),
    ("channel",),
)

ANALYSIS_TABLES: tuple[TableSpec, ...] = (
    ANALYSIS_RFM,
    ANALYSIS_RFM_TIERS,
    ANALYSIS_CLUSTERS,
    ANALYSIS_CLUSTER_PROFILES,
    ANALYSIS_FUNNEL,
    ANALYSIS_PATHS,
    ANALYSIS_HEATMAP,
    ANALYSIS_RETENTION,
    ANALYSIS_REPURCHASE,
    ANALYSIS_REPURCHASE_INTERESTS,
    ANALYSIS_PROFILE_TRAITS,
    ANALYSIS_ATTRIBUTION,
    ANALYSIS_ATTRIBUTION_LIFT,
)
