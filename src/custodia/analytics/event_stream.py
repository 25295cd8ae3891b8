"""The behavioural event stream the funnel, path and heatmap analyses read, as SQL.

Every analysis of events sees the same stream: ``track``, ``page`` and ``screen`` calls of
``events``, labelled by their event name (track) or page/screen name, each attributed to a
*person*: the live profile its ``user_id`` (else its ``anonymous_id``) leads to through
``profile_keys`` (written as the profile's number), else the raw id itself (``user:<id>``,
``anon:<id>``), so a visitor who later logs in counts once when identity resolution linked the
device. Events at the same instant are ordered by ``message_id`` (any fixed order would do;
this one is reproducible).

The SQL is DuckDB dialect that sqlglot carries to Spark (JSON properties are read with
``json_extract_string``, which becomes ``get_json_object``). Values users give (event names,
property values) are quoted literals; property names are checked to be plain keys.

Example::

    match = EventMatch.parse("Product Viewed[category=连衣裙]")
    match.condition_sql()   # "(coalesce(e.event, e.name) = 'Product Viewed' AND ...)"
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from custodia.core.analysis_tables import ANALYSIS_COLUMNS
from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.sql_text import quote_literal
from custodia.core.table_model import TableSpec

__all__ = [
    "EVENT_TYPES",
    "LABEL_SQL",
    "PERSON_ID",
    "PERSON_KEY",
    "EventMatch",
    "RunSql",
    "TimeRange",
    "check_events_known",
    "check_properties_known",
    "checked_path",
    "day_start_sql",
    "event_stream_sql",
    "instant_sql",
    "known_labels_sql",
    "person_sql",
    "property_path",
    "property_sql",
    "rows_table",
    "unknown_event_error",
]

EVENT_TYPES: Final = ("track", "page", "screen")
PERSON_KEY: Final = "person_key"
"""The SQL function giving a person's 64-bit key (``storage.engine.SHARED_MACROS``; Spark's
``xxhash64``): sorting a person's events by it is cheaper than by the person's text."""
PERSON_ID: Final = (
    "SELECT DISTINCT CAST(profile_key AS VARCHAR) AS person, profile_id FROM profile_keys"
)
"""A linked person (as :func:`person_sql` writes it) and its profile id, to join profiles."""
LABEL_SQL: Final = "coalesce(e.event, e.name)"
"""An event's label: the event name of a track call, the page or screen name otherwise."""

_KEY: Final = re.compile(r"[\w-]{1,64}")
_NUMBER: Final = re.compile(r"-?\d+(\.\d+)?")
Scalar = str | int | float | bool


def property_path(path: str, field: str) -> tuple[str, str]:
    """``category`` / ``properties.category`` -> (properties, $.category); ``context.x.y`` ->
    (context, $.x.y). A key is letters (any script), digits, ``_`` or ``-``."""
    parts = path.split(".")
    column = "properties"
    if parts[0] in ("properties", "context") and len(parts) > 1:
        column, parts = parts[0], parts[1:]
    if not parts or len(parts) > 5 or not all(_KEY.fullmatch(p) for p in parts):
        raise ValidationError(
            field, "property_path", f"{field}: a property name like category or context.page.path"
        )
    return column, "$." + ".".join(parts)


def checked_path(path: str, field: str) -> str:
    """``path`` if it is a property path (for pydantic validators: a ValueError otherwise)."""
    try:
        property_path(path, field)
    except ValidationError as exc:
        raise ValueError(str(exc)) from None
    return path


def property_sql(path: str, field: str, alias: str = "e") -> str:
    """SQL text reading one property (or context field) of an event as a string."""
    column, json_path = property_path(path, field)
    return f"json_extract_string({alias}.{column}, {quote_literal(json_path)})"


def _value_sql(value: Scalar) -> tuple[str, bool]:
    """(literal, compare as number)."""
    if isinstance(value, bool):
        return quote_literal("true" if value else "false"), False
    if isinstance(value, int | float):
        return repr(float(value)), True
    return quote_literal(value), False


class EventMatch(BaseModel):
    """An event by name, optionally with property filters (all must hold; ``=`` compares text,
    numbers compare as numbers, ``true``/``false`` match JSON booleans)."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(min_length=1, max_length=200, description="Event, page or screen name")
    where: dict[str, Scalar] = Field(
        default_factory=dict, max_length=10, description="Property name -> value it must equal"
    )

    @field_validator("where")
    @classmethod
    def _plain_keys(cls, value: dict[str, Scalar]) -> dict[str, Scalar]:
        for key in value:
            checked_path(key, "where")
        return value

    @classmethod
    def parse(cls, text: str) -> EventMatch:
        """``Product Viewed`` or ``Product Viewed[category=连衣裙,limited_edition=true]``."""
        match = re.fullmatch(r"\s*([^\[\]]+?)\s*(?:\[(.*)\])?\s*", text)
        if not match:
            raise ValueError("step: EVENT or EVENT[prop=value,...]")
        where: dict[str, Scalar] = {}
        for part in filter(None, (p.strip() for p in (match.group(2) or "").split(","))):
            key, sep, raw = part.partition("=")
            if not sep or not key.strip():
                raise ValueError("step: filters look like prop=value")
            where[key.strip()] = _scalar(raw.strip())
        return cls(event=match.group(1), where=where)

    @property
    def label(self) -> str:
        if not self.where:
            return self.event
        return self.event + "[" + ",".join(f"{k}={v}" for k, v in self.where.items()) + "]"

    def condition_sql(self, alias: str = "e") -> str:
        """A boolean SQL expression: this event with these properties."""
        label = LABEL_SQL.replace("e.", f"{alias}.")
        terms = [f"{label} = {quote_literal(self.event)}"]
        for key, value in self.where.items():
            read = property_sql(key, "where", alias)
            literal, numeric = _value_sql(value)
            terms.append(
                f"TRY_CAST({read} AS DOUBLE) = {literal}" if numeric else f"{read} = {literal}"
            )
        return "(" + " AND ".join(terms) + ")"


def _scalar(raw: str) -> Scalar:
    if raw in ("true", "false"):
        return raw == "true"
    if _NUMBER.fullmatch(raw):
        return float(raw) if "." in raw else int(raw)
    return raw


class TimeRange(BaseModel):
    """Dates (UTC, both inclusive) the analysed events happened on; open ends allowed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: date | None = Field(default=None, alias="from", description="First day (UTC)")
    end: date | None = Field(default=None, alias="to", description="Last day (UTC), inclusive")

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.start and self.end and self.end < self.start:
            raise ValueError("to: must not be before from (empty window)")
        return self

    def where_sql(self, alias: str = "e", *, extend: timedelta = timedelta(0)) -> list[str]:
        """Conditions on ``alias.timestamp``; ``extend`` lets events run past the last day
        (a funnel started on the last day may convert within its window)."""
        out = []
        if self.start:
            out.append(f"{alias}.event_date >= DATE {quote_literal(self.start.isoformat())}")
            out.append(f'{alias}."timestamp" >= {day_start_sql(self.start)}')
        if self.end:
            until = datetime.combine(self.end + timedelta(days=1), time()) + extend
            out.append(f"{alias}.event_date <= DATE {quote_literal(until.date().isoformat())}")
            out.append(f'{alias}."timestamp" < {instant_sql(until)}')
        return out


def instant_sql(moment: datetime) -> str:
    return f"TIMESTAMPTZ {quote_literal(moment.strftime('%Y-%m-%d %H:%M:%S') + '+00')}"


def day_start_sql(day: date) -> str:
    """The instant a UTC day starts: a filter on stored instants lets the scan skip row groups
    and converts nothing per row, where ``CAST(ts AS DATE)`` converts every row."""
    return instant_sql(datetime.combine(day, time()))


def person_sql(linked: bool) -> tuple[str, str]:
    """(person expression, joins) for events ``e``; ``linked``: profile_keys exists. A linked
    person is the profile's number as text (``profile_key``: a few digits, where the profile id
    has 25 characters, so sorting, hashing and comparing people is cheaper; :data:`PERSON_ID`
    maps it back); a raw id carries its ``user:``/``anon:`` prefix, so the two never meet."""
    raw = "coalesce('user:' || e.user_id, 'anon:' || e.anonymous_id)"
    if not linked:
        return raw, ""
    joins = (
        "LEFT JOIN profile_keys ku ON ku.ref_type = 'user_id' AND ku.ref_value = e.user_id "
        "LEFT JOIN profile_keys ka ON ka.ref_type = 'anonymous_id' "
        "AND ka.ref_value = e.anonymous_id"
    )
    return f"coalesce(CAST(coalesce(ku.profile_key, ka.profile_key) AS VARCHAR), {raw})", joins


def event_stream_sql(columns: Sequence[str], where: Iterable[str], *, linked: bool) -> str:
    """``SELECT person, ts, message_id, label, <columns> FROM events e ...`` over the
    behavioural calls matching every ``where`` condition."""
    person, joins = person_sql(linked)
    conditions = [
        "e.type IN (" + ", ".join(quote_literal(t) for t in EVENT_TYPES) + ")",
        'e."timestamp" IS NOT NULL',
        *where,
    ]
    selected = [
        f"{person} AS person",
        'e."timestamp" AS ts',
        "e.message_id",
        f"{LABEL_SQL} AS label",
        *columns,
    ]
    return (
        "SELECT "
        + ", ".join(selected)
        + f" FROM events e {joins} WHERE "
        + " AND ".join(f"({c})" for c in conditions)
    )


def known_labels_sql(where: Iterable[str] = ()) -> str:
    """Distinct labels of the behavioural calls (to check the names a user gave)."""
    conditions = ["e.type IN (" + ", ".join(quote_literal(t) for t in EVENT_TYPES) + ")", *where]
    return (
        f"SELECT {LABEL_SQL} AS label, count(*) AS n FROM events e WHERE "
        + " AND ".join(f"({c})" for c in conditions)
        + " GROUP BY 1"
    )


def unknown_event_error(field: str, name: str, known: Iterable[str]) -> ValidationError:
    """The error for an event name no event carries, with the closest known names (event
    names are product vocabulary, not personal data)."""
    names = sorted(k for k in known if k)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; closest: {', '.join(close)}" if close else ""
    listed = f"; known: {', '.join(names[:20])}" if names and not close else ""
    return ValidationError(field, "known_event", f"{field}: no event named {name!r}{hint}{listed}")


RunSql = Callable[[str], list[dict[str, Any]]]
"""Runs one query and gives its rows (an engine session's ``run``, as dicts)."""


def check_events_known(run: RunSql, names: Sequence[tuple[str, str]]) -> None:
    """Every ``(field, event name)`` occurs among the behavioural calls, else a ValidationError
    naming the field, the name and the closest known names."""
    wanted = {name for _, name in names}
    if not wanted:
        return
    try:
        known = {str(r["label"]) for r in run(known_labels_sql())}
    except TableNotFoundError:
        known = set()
    for field, name in names:
        if name not in known:
            raise unknown_event_error(field, name, known)


def check_properties_known(run: RunSql, checks: Sequence[tuple[str, EventMatch, str]]) -> None:
    """Every ``(field, event, property)`` is set on at least one such event, else an error
    naming the field and listing properties the event does carry (from a sample)."""
    if not checks:
        return
    counts = ", ".join(
        f"count(CASE WHEN {LABEL_SQL} = {quote_literal(m.event)} "
        f"THEN {property_sql(path, field)} END) AS c{i}"
        for i, (field, m, path) in enumerate(checks)
    )
    types = ", ".join(quote_literal(t) for t in EVENT_TYPES)
    found = run(f"SELECT {counts} FROM events e WHERE e.type IN ({types})")[0]
    for i, (field, match, path) in enumerate(checks):
        if not found[f"c{i}"]:
            raise _unknown_property(run, field, match.event, path)


def _unknown_property(run: RunSql, field: str, event: str, path: str) -> ValidationError:
    column, _ = property_path(path, field)
    sample = run(
        f"SELECT e.{column} AS doc FROM events e WHERE {LABEL_SQL} = {quote_literal(event)} "
        "LIMIT 200"
    )
    keys: set[str] = set()
    for row in sample:
        with contextlib.suppress(ValueError, TypeError):
            doc = json.loads(row["doc"] or "{}")
            keys.update(doc if isinstance(doc, dict) else ())
    prefix = "context." if column == "context" else ""
    known = ", ".join(prefix + k for k in sorted(keys)[:30]) or "none"
    return ValidationError(
        field,
        "known_property",
        f"{field}: {event!r} events have no property {path!r}; they carry: {known}",
    )


def rows_table(spec: TableSpec, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Result rows as a table with every column of ``spec`` the analysis fills (the run columns
    are added by the runner); a key a row lacks is null."""
    columns = [c for c in spec.columns if c.name not in ANALYSIS_COLUMNS]
    return pa.table({c.name: pa.array([r.get(c.name) for r in rows], c.type) for c in columns})
