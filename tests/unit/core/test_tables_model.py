"""The canonical model: every column classified, schemas valid, the generated doc up to date."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from custodia.core.errors import TableNotFoundError
from custodia.core.model_doc import render_data_model
from custodia.core.tables import TABLES, table_spec
from custodia.core.types import Tier

DOC = Path(__file__).resolve().parents[3] / "docs" / "data-model.md"


def test_every_column_has_a_tier_and_description() -> None:
    for spec in TABLES:
        schema = spec.arrow_schema()
        assert len(schema) == len(spec.columns)
        for col in spec.columns:
            assert isinstance(col.tier, Tier), (spec.name, col.name)
            assert col.description, (spec.name, col.name)
            assert schema.field(col.name).metadata[b"tier"] == col.tier.value.encode()


def test_keys_and_partitions_name_real_columns() -> None:
    for spec in TABLES:
        for name in (*spec.key, *spec.partition_by):
            assert name in spec.column_names, (spec.name, name)


def test_table_names_are_unique() -> None:
    names = [spec.name for spec in TABLES]
    assert len(names) == len(set(names))


def test_the_issue_tables_exist() -> None:
    wanted = {
        "events", "customer_records", "profiles", "profile_identifiers", "identity_edges",
        "orders", "order_lines", "interactions", "touchpoints", "deliveries", "consents",
        "audit_log",
    }  # fmt: skip
    assert wanted <= {spec.name for spec in TABLES}


@pytest.mark.parametrize(
    ("table", "column", "tier"),
    [
        ("customer_records", "resident_id", Tier.L3),
        ("customer_records", "credit_band", Tier.L3),
        ("customer_records", "phone", Tier.L2),
        ("customer_records", "email", Tier.L2),
        ("customer_records", "address", Tier.L2),
        ("customer_records", "province", Tier.L1),
        ("customer_records", "industry", Tier.L1),
    ],
)
def test_classification_follows_the_policy(table: str, column: str, tier: Tier) -> None:
    assert table_spec(table).column(column).tier is tier


def test_personal_columns_never_reach_delta_statistics() -> None:
    for spec in TABLES:
        stats = spec.stats_columns()
        assert not any(spec.column(c).personal for c in stats)


def test_events_follow_the_segment_spec_fields() -> None:
    cols = set(table_spec("events").column_names)
    segment = {
        "type", "event", "user_id", "anonymous_id", "message_id", "timestamp", "sent_at",
        "received_at", "properties", "context", "source",
    }  # fmt: skip
    assert segment <= cols
    assert table_spec("events").arrow_schema().field("timestamp").type == pa.timestamp("us", "UTC")


def test_unknown_table_lists_the_known_ones() -> None:
    with pytest.raises(TableNotFoundError, match=r"known tables: .*events"):
        table_spec("evnets")


def test_generated_data_model_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_data_model(), (
        "docs/data-model.md is stale: run `make docs`"
    )
