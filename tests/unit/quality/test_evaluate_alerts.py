"""Volume and freshness judgements, score roll-ups and alert planning (pure logic)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from custodia.quality.alerts import judge_thresholds, plan_alerts
from custodia.quality.evaluate import RuleResult, evaluate
from custodia.quality.models import Dimension, RuleSet
from custodia.quality.periods import period_start, shift
from custodia.quality.rule_sql import compile_rules
from custodia.quality.scores import score_results
from custodia.quality.tails import poisson_tail


def ruleset(*rules: dict[str, object]) -> RuleSet:
    return RuleSet.model_validate({"rules": list(rules)})


VOLUME = {"name": "store_volume", "table": "orders", "check": "volume", "by": ["store_id"],
          "period": "month", "lookback": 6, "window": 3, "min_ratio": 0.3}  # fmt: skip


def months(start: date, counts: list[int]) -> list[date]:
    return [shift(start, "month", k) for k in range(len(counts))]


def volume_rows(store: str, counts: list[int]) -> list[dict[str, object]]:
    return [
        {"source": "pos", "day": day, "by_store_id": store, "n": n}
        for day, n in zip(months(date(2026, 1, 1), counts), counts, strict=True)
        if n
    ]


def test_a_store_that_stops_uploading_is_an_anomaly_and_a_quiet_month_is_not() -> None:
    rule = ruleset(VOLUME).rules[0]
    query = compile_rules([rule])[0]
    rows = volume_rows("SH001", [6, 5, 7, 6, 5, 6, 0, 0, 0]) + volume_rows(
        "BJ001",
        [6, 5, 7, 6, 5, 6, 1, 6, 5],  # 1 is low, but not unlikely enough at mean 6
    )
    results = evaluate(query, rows, now=datetime(2026, 10, 1, tzinfo=UTC))
    assert [(r.day, r.checked, r.failed) for r in results] == [
        (date(2026, 7, 1), 2, 1), (date(2026, 8, 1), 2, 1), (date(2026, 9, 1), 2, 1),
    ]  # fmt: skip
    anomaly = results[0].anomalies[0]
    assert anomaly.group == {"store_id": "SH001"} and anomaly.observed == 0
    assert anomaly.expected == pytest.approx(6.0)


def test_missing_history_is_not_judged_and_the_poisson_tail_is_right() -> None:
    rule = ruleset(VOLUME).rules[0]
    query = compile_rules([rule])[0]
    young = volume_rows("NEW01", [0, 0, 0, 0, 0, 0, 0, 4, 0])  # opened in August
    assert evaluate(query, young, now=datetime(2026, 10, 1, tzinfo=UTC)) == []
    assert poisson_tail(0, 6.0, lower=True) == pytest.approx(0.00247875, rel=1e-5)
    assert poisson_tail(2, 6.0, lower=True) == pytest.approx(0.0619688, rel=1e-5)
    assert 0 < poisson_tail(900, 1000.0, lower=True) < 0.01  # no underflow for busy groups
    assert period_start(date(2026, 7, 15), "week") == date(2026, 7, 13)


def test_freshness_compares_each_source_with_now() -> None:
    rule = ruleset({"name": "fresh", "table": "orders", "check": "freshness",
                    "column": "loaded_at", "max_age": "36h"}).rules[0]  # fmt: skip
    query = compile_rules([rule])[0]
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    rows = [{"source": "pos", "newest": datetime(2026, 11, 22, 12, tzinfo=UTC)},
            {"source": "shop", "newest": datetime(2026, 11, 24, 6, tzinfo=UTC)}]  # fmt: skip
    results = {r.source: r for r in evaluate(query, rows, now=now)}
    assert (results["pos"].failed, results["shop"].failed) == (1, 0)
    assert results["pos"].anomalies[0].observed == 48.0


def result(rule: str, dimension: Dimension, checked: int, failed: int, **kw: object) -> RuleResult:
    fields = {"table": "customer_records", "column": "phone", "source": "crm", "day": None} | kw
    return RuleResult(rule=rule, dimension=dimension, checked=checked, failed=failed, **fields)  # type: ignore[arg-type]


def test_scores_weigh_each_rule_the_same() -> None:
    results = [
        result("a", Dimension.VALIDITY, 1000, 100),  # 0.9
        result("b", Dimension.VALIDITY, 10, 5, column="email"),  # 0.5
        result("c", Dimension.COMPLETENESS, 1000, 0),  # 1.0
    ]
    scores = {(s.table, s.column, s.dimension): s.score for s in score_results(results)}
    assert scores[("customer_records", "", "validity")] == pytest.approx(0.7)
    assert scores[("customer_records", "phone", "validity")] == pytest.approx(0.9)
    assert scores[("customer_records", "", "overall")] == pytest.approx((0.7 + 1.0) / 2)
    weighted = score_results(results, {Dimension.COMPLETENESS: 3.0})
    overall = next(s for s in weighted if s.table == "*" and s.dimension == "overall")
    assert overall.score == pytest.approx((0.7 + 3 * 1.0) / 4)


def test_alerts_deduplicate_and_resolve_only_when_measured() -> None:
    rules = ruleset(
        {"name": "phone", "table": "customer_records", "column": "phone", "check": "not_null",
         "threshold": {"max_failure_rate": 0.05, "per_source": True}},
        {"name": "email", "table": "customer_records", "column": "email", "check": "not_null",
         "threshold": {"max_failed": 0}},
    ).rules  # fmt: skip
    results = [
        result("phone", Dimension.COMPLETENESS, 100, 10, source="crm"),
        result("phone", Dimension.COMPLETENESS, 100, 1, source="pos"),
        result("email", Dimension.COMPLETENESS, 50, 0),
    ]
    breaches, measured = judge_thresholds(rules, results)
    assert [b.key for b in breaches] == ["phone@crm"]
    assert measured == {"phone@crm", "phone@pos", "email"}
    plan = plan_alerts(["phone@crm", "phone@pos", "email@gone"], breaches, measured)
    assert [b.key for b in plan.continued] == ["phone@crm"] and plan.opened == []
    assert plan.resolved == ["phone@pos"]  # email@gone was not measured: left open
    assert "10 of 100 failed (10.0%)" in breaches[0].summary()
