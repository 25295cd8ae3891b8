"""Heatmaps: clicks by page element, and attention by weekday and hour.

Two aggregations over the event stream (:mod:`custodia.analytics.event_stream`):

- **elements**: ``Element Clicked`` track calls grouped by ``properties.element_id`` (with its
  type and text), with people, the share of the page's clicks and the mean click position as a
  fraction of the viewport (``x / viewport_width``, ``y / viewport_height``);
- **hours**: page and screen views (attention) and clicks per UTC hour, counted in SQL, then
  placed on the ISO weekday (1 = Monday) and hour of ``timezone`` in Python, which is exact for
  every zone whose offsets are whole hours (Asia/Shanghai is UTC+8 all year; UTC is the other
  documented choice) and keeps time zone rules out of engine-specific SQL.

``page`` limits both to one page path (``/p/LM-DR-001-S``) or a glob (``/p/*``): clicks by their
``properties.page_path``, views by ``properties.path`` (else ``context.page.path``).

Example::

    params = HeatmapParams(page="/p/*")
    elements = session.run(element_sql(params, linked=True)).to_pylist()
    hours = session.run(hour_sql(params, linked=True)).to_pylist()
    rows, summary = heatmap_rows(elements, hours, params)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, available_timezones

from pydantic import Field, field_validator

from custodia.analytics.event_stream import LABEL_SQL, TimeRange, event_stream_sql
from custodia.core.sql_text import quote_literal

__all__ = ["ALL_PAGES", "CLICK_EVENT", "HeatmapParams", "element_sql", "heatmap_rows", "hour_sql"]

CLICK_EVENT: Final = "Element Clicked"
ALL_PAGES: Final = "(all)"
_CLICK_PAGE: Final = "json_extract_string(e.properties, '$.page_path')"
_VIEW_PAGE: Final = (
    "coalesce(json_extract_string(e.properties, '$.path'), "
    "json_extract_string(e.context, '$.page.path'))"
)


class HeatmapParams(TimeRange):
    """Which page (path or ``*`` glob; all pages by default) and which time zone."""

    page: str | None = Field(default=None, min_length=1, max_length=300)
    timezone: str = Field(default="Asia/Shanghai", description="IANA zone of weekday and hour")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value != "UTC" and value not in available_timezones():
            raise ValueError("timezone: an IANA time zone name such as Asia/Shanghai or UTC")
        return value

    @property
    def page_label(self) -> str:
        return self.page or ALL_PAGES

    def page_condition(self, column: str) -> list[str]:
        if self.page is None:
            return []
        if "*" in self.page:
            pattern = self.page.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return [f"{column} LIKE {quote_literal(pattern.replace('*', '%'))} ESCAPE '\\'"]
        return [f"{column} = {quote_literal(self.page)}"]


def element_sql(params: HeatmapParams, *, linked: bool) -> str:
    """Clicks per element: ``element_id, element_type, element_text, clicks, persons,
    avg_x_ratio, avg_y_ratio``."""
    prop = "json_extract_string(e.properties, '$.{}')".format
    columns = [
        f"{prop('element_id')} AS element_id",
        f"{prop('element_type')} AS element_type",
        f"{prop('text')} AS element_text",
        f"{_ratio(prop('x'), prop('viewport_width'))} AS x_ratio",
        f"{_ratio(prop('y'), prop('viewport_height'))} AS y_ratio",
    ]
    where = [
        f"{LABEL_SQL} = {quote_literal(CLICK_EVENT)}",
        *params.where_sql(),
        *params.page_condition(_CLICK_PAGE),
    ]
    return (
        f"SELECT coalesce(element_id, '(unknown)') AS element_id, max(element_type) AS "
        "element_type, max(element_text) AS element_text, count(*) AS clicks, "
        "count(DISTINCT person) AS persons, avg(x_ratio) AS avg_x_ratio, "
        f"avg(y_ratio) AS avg_y_ratio FROM ({event_stream_sql(columns, where, linked=linked)}) "
        "GROUP BY coalesce(element_id, '(unknown)')"
    )


def _ratio(part: str, whole: str) -> str:
    return f"TRY_CAST({part} AS DOUBLE) / nullif(TRY_CAST({whole} AS DOUBLE), 0)"


def hour_sql(params: HeatmapParams, *, linked: bool) -> str:
    """Views and clicks per UTC hour: ``hour_utc, views, clicks``."""
    is_click = f"{LABEL_SQL} = {quote_literal(CLICK_EVENT)}"
    view = "e.type IN ('page', 'screen')"
    pages = params.page_condition(_VIEW_PAGE), params.page_condition(_CLICK_PAGE)
    on_view = " AND ".join([view, *pages[0]])
    on_click = " AND ".join([is_click, *pages[1]])
    columns = [f"({on_view}) AS is_view", f"({on_click}) AS is_click"]
    where = [*params.where_sql(), f"({on_view}) OR ({on_click})"]
    return (
        "SELECT date_trunc('hour', ts) AS hour_utc, count(CASE WHEN is_view THEN 1 END) AS views, "
        "count(CASE WHEN is_click THEN 1 END) AS clicks "
        f"FROM ({event_stream_sql(columns, where, linked=linked)}) GROUP BY date_trunc('hour', ts)"
    )


def heatmap_rows(
    elements: list[dict[str, Any]], hours: list[dict[str, Any]], params: HeatmapParams
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of ``analysis_heatmap`` (elements by clicks, then the 7 x 24 grid) and a summary."""
    total = sum(int(r["clicks"]) for r in elements)
    common = {"timezone": params.timezone, "page": params.page_label}
    out = [
        {
            **common,
            "kind": "element",
            **{
                k: r[k] for k in ("element_id", "element_type", "element_text", "clicks", "persons")
            },
            "click_share": round(r["clicks"] / total, 6) if total else None,
            "avg_x_ratio": _rounded(r["avg_x_ratio"]),
            "avg_y_ratio": _rounded(r["avg_y_ratio"]),
        }
        for r in sorted(elements, key=lambda r: (-r["clicks"], str(r["element_id"])))
    ]
    grid = local_grid(hours, params.timezone)
    out += [
        {**common, "kind": "hour", "weekday": day, "hour": hour, "views": v, "clicks": c}
        for (day, hour), (v, c) in sorted(grid.items())
    ]
    busiest = max(grid.items(), key=lambda item: (item[1][0], item[0]), default=None)
    summary = {
        "page": params.page_label,
        "timezone": params.timezone,
        "clicks": total,
        "views": sum(v for v, _ in grid.values()),
        "top_elements": [
            {k: r[k] for k in ("element_id", "element_text", "clicks", "click_share")}
            for r in out[:5]
            if r["kind"] == "element"
        ],
        "busiest_hour": None
        if busiest is None
        else {"weekday": busiest[0][0], "hour": busiest[0][1], "views": busiest[1][0]},
    }
    return out, summary


def local_grid(
    hours: list[dict[str, Any]], timezone: str
) -> dict[tuple[int, int], tuple[int, int]]:
    """UTC hour buckets summed onto (ISO weekday, local hour) of ``timezone``: every cell of
    the 7 x 24 grid is present (zero when nothing happened)."""
    zone = ZoneInfo(timezone)
    grid: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for day in range(1, 8):
        for hour in range(24):
            grid[(day, hour)]
    for row in hours:
        moment: datetime = row["hour_utc"]
        if moment.tzinfo is None:  # an engine answering in naive UTC
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(zone)
        cell = grid[(local.isoweekday(), local.hour)]
        cell[0] += int(row["views"])
        cell[1] += int(row["clicks"])
    return {k: (v[0], v[1]) for k, v in grid.items()}


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)
