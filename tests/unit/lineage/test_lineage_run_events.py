"""Lineage run events: OpenLineage shape, column provenance, and reading a table's lineage back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.lineage.column_provenance import referenced_fields
from custodia.lineage.lineage_view import parse_target, table_lineage
from custodia.lineage.run_events import (
    ColumnOrigin,
    RunContext,
    RunEventType,
    SourceInput,
    TableContribution,
    TableOutput,
    openlineage_run_id,
    run_event,
)
from custodia.storage.store import OperationalStore
from custodia.storage.store_lineage import LineageLog

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NS = "custodia:ws_test"


@pytest.mark.parametrize(
    ("expression", "fields"),
    [
        ("coalesce(member_id, user_id, buyer_phone)", ("member_id", "user_id", "buyer_phone")),
        ("list_sum(list_transform(items, lambda i: i.qty))", ("items",)),
        ("shipping.receiver_name", ("shipping.receiver_name",)),
        ("order_id || '#' || line_no", ("order_id", "line_no")),
        ('"会员编号"', ("会员编号",)),
        ("'online'", ()),
        ("this is (not sql", ()),
    ],
)
def test_referenced_fields(expression: str, fields: tuple[str, ...]) -> None:
    assert referenced_fields(expression) == fields


def test_openlineage_run_ids_are_stable_uuids() -> None:
    hex_id = uuid.uuid4().hex
    assert openlineage_run_id(f"run_{hex_id}") == str(uuid.UUID(hex_id))
    other = openlineage_run_id("replay-7")
    assert other == openlineage_run_id("replay-7")
    assert uuid.UUID(other).version == 5


def _pos_input(expression: str = "sum(amount)", rows: int | None = None) -> SourceInput:
    return SourceInput(
        name="pos",
        format="csv",
        entity="orders",
        path="pos/*.csv",
        location="/data/sources",
        files=("pos/a.csv", "pos/b.csv"),
        targets={"orders": {"total_amount": ColumnOrigin(expression, ("amount",))}},
        mapping={"name": "pos", "format": "csv"},
        rows_read=rows,
    )


def _orders_output(version: int = 3) -> TableOutput:
    return TableOutput("orders", 7, version, (TableContribution("pos", 7, inserted=5, updated=2),))


def test_start_and_complete_events_have_the_openlineage_shape() -> None:
    ctx = RunContext(run_id=f"run_{uuid.uuid4().hex}", job="load", namespace=NS)
    start = run_event(RunEventType.START, ctx, at=T0, inputs=[_pos_input()])
    assert start["eventType"] == "START" and start["job"] == {
        "namespace": NS,
        "name": "load",
        "facets": start["job"]["facets"],
    }
    assert start["run"]["runId"] == openlineage_run_id(ctx.run_id)
    assert start["inputs"][0]["facets"]["custodia_source"]["mapping"] == {
        "name": "pos",
        "format": "csv",
    }
    done = run_event(
        RunEventType.COMPLETE,
        ctx,
        at=T0,
        inputs=[_pos_input(rows=9)],
        outputs=[_orders_output()],
        stats={"rows_in": 9},
    )
    assert "mapping" not in done["inputs"][0]["facets"]["custodia_source"]
    assert done["inputs"][0]["inputFacets"]["inputStatistics"]["rowCount"] == 9
    [out] = done["outputs"]
    assert (out["namespace"], out["name"]) == (NS, "staged.orders")
    assert out["facets"]["version"]["datasetVersion"] == "3"
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 7
    assert {"name", "type"} <= set(out["facets"]["schema"]["fields"][0])
    lineage = out["facets"]["columnLineage"]["fields"]["total_amount"]["inputFields"]
    assert lineage[0]["name"] == "pos" and lineage[0]["field"] == "amount"
    assert lineage[0]["transformations"][0]["description"] == "sum(amount)"
    for facet in out["facets"].values():
        assert facet["_producer"].startswith("urn:custodia:") and facet["_schemaURL"]


def test_fail_event_carries_the_error_message() -> None:
    ctx = RunContext(run_id="run_x", job="load", namespace=NS)
    failed = run_event(RunEventType.FAIL, ctx, at=T0, inputs=[_pos_input()], error="bad\ntrace")
    assert failed["run"]["facets"]["errorMessage"]["message"] == "bad"


def _record(
    log: LineageLog, ctx: RunContext, kind: RunEventType, at: datetime, **kw: object
) -> None:
    payload = run_event(kind, ctx, at=at, **kw)  # type: ignore[arg-type]
    log.record(
        run_id=ctx.run_id, job=ctx.job, event_type=kind.value, event_time=at, payload=payload
    )


def test_table_lineage_from_stored_events(operational_store: OperationalStore) -> None:
    log = LineageLog(operational_store)
    first = RunContext("run_1", "load", NS)
    _record(log, first, RunEventType.START, T0, inputs=[_pos_input("sum(amount)")])
    _record(log, first, RunEventType.COMPLETE, T0 + timedelta(seconds=5),
            inputs=[_pos_input("sum(amount)")], outputs=[_orders_output(1)])  # fmt: skip
    second = RunContext("run_2", "load", NS)
    later = T0 + timedelta(hours=1)
    _record(log, second, RunEventType.START, later, inputs=[_pos_input("sum(amount) * 1.0")])
    _record(log, second, RunEventType.COMPLETE, later, inputs=[_pos_input("sum(amount) * 1.0")],
            outputs=[_orders_output(2)])  # fmt: skip
    third = RunContext("run_3", "load", NS)
    _record(log, third, RunEventType.START, later + timedelta(hours=1), inputs=[_pos_input()])
    _record(log, third, RunEventType.FAIL, later + timedelta(hours=1), inputs=[_pos_input()],
            error="mapping pos -> orders: bad cast")  # fmt: skip

    assert [r.event_type for r in log.for_run("run_2")] == ["START", "COMPLETE"]
    view = table_lineage("orders", "total_amount", log.recent(limit=100))
    assert [r.run_id for r in view.runs] == ["run_3", "run_2", "run_1"]
    assert [r.status for r in view.runs] == ["failed", "completed", "completed"]
    assert view.runs[0].error == "mapping pos -> orders: bad cast"
    assert view.runs[0].sources == ["pos"] and view.runs[1].table_version == 2
    [origin] = view.columns["total_amount"]
    assert (origin.source, origin.expression, origin.run_id) == (
        "pos",
        "sum(amount) * 1.0",
        "run_2",
    )
    [upstream] = view.upstream
    assert upstream.files == ["pos/a.csv", "pos/b.csv"] and upstream.runs == 3
    assert table_lineage("customer_records", None, log.recent()).runs == []


def test_parse_target() -> None:
    assert parse_target("orders") == ("orders", None)
    assert parse_target("staged.orders.total_amount") == ("orders", "total_amount")
    with pytest.raises(ValidationError):
        parse_target("orders.no_such_column")
    with pytest.raises(TableNotFoundError):
        parse_target("no_such_table")
