"""Calendar periods for volume checks: the start of a day, ISO week (Monday) or month, and
stepping whole periods back and forth.

Example::

    period_start(date(2026, 7, 15), "month")        # 2026-07-01
    shift(date(2026, 7, 1), "month", -2)            # 2026-05-01
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["period_start", "shift"]


def period_start(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def shift(start: date, period: str, steps: int) -> date:
    """The start of the period ``steps`` periods after (negative: before) ``start``'s period."""
    if period == "month":
        months = start.year * 12 + start.month - 1 + steps
        return date(months // 12, months % 12 + 1, 1)
    return start + timedelta(days=steps * (7 if period == "week" else 1))
