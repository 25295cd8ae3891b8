"""Only volume rules are limited to their judged window; other set rules on the same table are not.

A table with a volume rule has a latest day of data; freshness, unique or max_per_key rules on
that table must still read every row (and have no period to shift by).
"""

from __future__ import annotations

from datetime import date

from custodia.quality.rule_file import parse_rules
from custodia.quality.rule_sql import compile_rules

RULES = """
version: 1
rules:
  - {name: ev_volume, table: events, check: volume, period: day, lookback: 3, window: 2}
  - {name: ev_fresh, table: events, check: freshness, column: timestamp, max_age: 1d}
  - {name: ev_unique, table: events, check: unique, column: message_id}
"""


def test_set_rules_beside_a_volume_rule_compile_without_a_window() -> None:
    queries = compile_rules(parse_rules(RULES).rules, latest_days={"events": date(2026, 1, 30)})
    sql = {q.rules[0].name: q.sql for q in queries}
    assert "2026-01-26" in sql["ev_volume"]  # lookback 3 + window 2 - 1 = 4 days before
    assert "2026-01" not in sql["ev_fresh"]
    assert "2026-01" not in sql["ev_unique"]
