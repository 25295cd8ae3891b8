"""SQL of the computed traits: one engine query per run, then a finishing step over its rows.

:func:`traits_sql` builds one DuckDB-dialect statement (it transpiles to Spark) giving one row
per profile and one column per trait: each source is scanned once, joined to its profile through
``profile_keys`` (events by ``user_id``, else ``anonymous_id``, so an event counts once), and
aggregated with ``CASE WHEN`` filters per trait; ``most_frequent``/``first``/``last`` rank rows
with ``row_number`` (ties: the smaller value wins) and ``unique`` collects distinct values.
With ``due=True`` only the profiles listed in the relation ``due_profiles`` are computed.

:func:`finish_sql` runs over those rows (aggregated, one per profile): it sorts and cuts the
lists, packs the trait map as JSON and evaluates the tags per dimension.
:func:`due_sql` lists the profiles an incremental run must recompute (docs/analytics-traits.md).

Example::

    sql = traits_sql(spec, date(2026, 11, 1), present={"orders", "profile_keys", "profiles"})
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from custodia.analytics.traits_expr import (
    columns_named,
    quote,
    render_condition,
    render_expression,
)
from custodia.analytics.traits_spec import DIMENSIONS, SOURCES, TraitSpec, TraitsSpec

__all__ = ["DueSince", "due_sql", "finish_sql", "traits_sql", "window_bounds"]

_RANKED: Final = frozenset({"most_frequent", "first", "last"})
_ZERO_WHEN_EMPTY: Final = frozenset({"count", "count_distinct", "sum"})
_KEY_JOIN = "k.ref_type = {a}.customer_ref_type AND k.ref_value = {a}.customer_ref"


def _ts(moment: datetime) -> str:
    return f"TIMESTAMPTZ '{moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S.%f')}+00:00'"


def window_bounds(as_of: date, window_days: int | None = None) -> datetime:
    """The end (exclusive: midnight UTC after ``as_of``) or, with a window, its start."""
    end = datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=UTC)
    return end - timedelta(days=window_days) if window_days else end


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _due_filter(due: bool) -> str:
    return " WHERE profile_id IN (SELECT profile_id FROM due_profiles)" if due else ""


# -- facts -------------------------------------------------------------------------------------


def _fact_cte(source: str, columns: Collection[str], as_of: date, since: datetime | None) -> str:
    """Rows of ``source`` before the as-of end (and after ``since``), with their profile."""
    end, cols = _ts(window_bounds(as_of)), sorted(columns)
    if source == "events":
        pick = ", ".join(f"e.{quote(c)}" for c in cols)
        who = "coalesce(ku.profile_key, ka.profile_key)"
        low = f" AND e.timestamp >= {_ts(since)}" if since else ""
        return (
            f"f_events AS (SELECT {who} AS _pk, e.timestamp AS _t, {pick} FROM events e "
            "LEFT JOIN keys ku ON ku.ref_type = 'user_id' AND ku.ref_value = e.user_id "
            "LEFT JOIN keys ka ON ka.ref_type = 'anonymous_id' AND ka.ref_value = e.anonymous_id "
            f"WHERE e.timestamp < {end}{low} AND {who} IS NOT NULL)"
        )
    if source == "order_lines":
        alias = {"ordered_at": "o.ordered_at", "order_status": "o.status",
                 "order_channel": "o.channel", "order_id": "l.order_id"}  # fmt: skip
        pick = ", ".join(f"{alias.get(c, 'l.' + quote(c))} AS {quote(c)}" for c in cols)
        low = f" AND o.ordered_at >= {_ts(since)}" if since else ""
        return (
            f"f_order_lines AS (SELECT k.profile_key AS _pk, o.ordered_at AS _t, {pick} "
            "FROM order_lines l JOIN orders o ON o.order_id = l.order_id "
            f"JOIN keys k ON {_KEY_JOIN.format(a='o')} WHERE o.ordered_at < {end}{low})"
        )
    time_col = SOURCES[source].time_column
    pick = ", ".join(f"s.{quote(c)}" for c in cols)
    low = f" AND s.{time_col} >= {_ts(since)}" if since else ""
    return (
        f"f_{source} AS (SELECT k.profile_key AS _pk, s.{time_col} AS _t, {pick} FROM {source} s "
        f"JOIN keys k ON {_KEY_JOIN.format(a='s')} WHERE s.{time_col} < {end}{low})"
    )


def _value(trait: TraitSpec) -> str:
    source = SOURCES[trait.source]
    return render_expression(
        trait.column or "1", source.columns, field="column", json_columns=source.json_columns
    )


def _filter(trait: TraitSpec, as_of: date) -> str | None:
    parts = []
    if trait.where:
        source = SOURCES[trait.source]
        parts.append(
            render_condition(
                trait.where, source.columns, field="where", json_columns=source.json_columns
            )
        )
    if trait.window_days:
        parts.append(f"_t >= {_ts(window_bounds(as_of, trait.window_days))}")
    return " AND ".join(parts) or None


def _aggregate(trait: TraitSpec, as_of: date) -> str:
    cond, value = _filter(trait, as_of), _value(trait)
    if trait.aggregate == "count":
        return f"count(CASE WHEN {cond} THEN 1 END)" if cond else "count(*)"
    picked = f"CASE WHEN {cond} THEN {value} END" if cond else value
    if trait.aggregate == "count_distinct":
        return f"count(DISTINCT {picked})"
    if trait.aggregate == "sum":
        return f"CAST(sum({picked}) AS DOUBLE)"
    if trait.aggregate == "avg":  # exact sum, one division: the same double on every engine
        return (
            f"CASE WHEN count({picked}) > 0 THEN CAST(sum({picked}) AS DOUBLE) / count({picked}) "
            "END"
        )
    return f"{trait.aggregate}({picked})"


def _ranked_cte(trait: TraitSpec, as_of: date) -> str:
    """The one value per profile of a most_frequent / first / last trait (ties: smaller value)."""
    cond, value, name = _filter(trait, as_of), _value(trait), quote(trait.name)
    where = f"{value} IS NOT NULL" + (f" AND {cond}" if cond else "")
    src = f"f_{trait.source}"
    if trait.aggregate == "most_frequent":
        rows = (
            f"SELECT _pk, v, count(*) AS n FROM (SELECT _pk, CAST({value} AS VARCHAR)"
            f" AS v FROM {src} WHERE {where}) GROUP BY _pk, v"
        )
        order = "n DESC, v"
    else:
        rows = f"SELECT _pk, _t, {value} AS v FROM {src} WHERE {where}"
        order = "_t, v" if trait.aggregate == "first" else "_t DESC, v"
    return (
        f"r_{trait.name} AS (SELECT _pk, v AS {name} FROM (SELECT _pk, v, "
        f"row_number() OVER (PARTITION BY _pk ORDER BY {order}) AS rn FROM ({rows})) "
        "WHERE rn = 1)"
    )


def _unique_cte(trait: TraitSpec, as_of: date) -> str:
    cond, value = _filter(trait, as_of), _value(trait)
    where = f"{value} IS NOT NULL" + (f" AND {cond}" if cond else "")
    return (
        f"r_{trait.name} AS (SELECT _pk, list(v) AS {quote(trait.name)} FROM "
        f"(SELECT DISTINCT _pk, CAST({value} AS VARCHAR) AS v FROM f_{trait.source} "
        f"WHERE {where}) GROUP BY _pk)"
    )


def _profile_value(trait: TraitSpec, as_of: date) -> str:
    if trait.column == "age":
        return _age("p.birthday", as_of)
    return f"p.{quote(trait.column or '')}"


def _age(column: str, as_of: date) -> str:
    """Whole years from ``column`` to ``as_of`` (a birthday on the as-of date counts)."""
    mmdd = as_of.month * 100 + as_of.day
    return (
        f"CAST({as_of.year} - year({column}) - CASE WHEN month({column}) * 100 + day({column}) "
        f"> {mmdd} THEN 1 ELSE 0 END AS INTEGER)"
    )


# -- the engine query -------------------------------------------------------------------------


def traits_sql(
    spec: TraitsSpec, as_of: date, *, present: Collection[str], due: bool = False
) -> str:
    """One row per live profile (``profiles``) with one column per trait, on any engine."""
    by_source: dict[str, list[TraitSpec]] = {}
    for trait in spec.traits:
        by_source.setdefault(trait.source, []).append(trait)
    ctes = [
        "keys AS (SELECT ref_type, ref_value, profile_id, profile_key FROM profile_keys"
        f"{_due_filter(due)})",
        "numbers AS (SELECT profile_id, any_value(profile_key) AS profile_key FROM keys "
        "GROUP BY profile_id)",
    ]
    people = [f"p.{quote(t.name)}" for t in by_source.get("profiles", [])]
    person_cols = ", ".join(
        f"{_profile_value(t, as_of)} AS {quote(t.name)}" for t in by_source.get("profiles", [])
    )
    ctes.append(
        f"people AS (SELECT p.profile_id, n.profile_key{', ' + person_cols if person_cols else ''} "
        "FROM profiles p LEFT JOIN numbers n ON n.profile_id = p.profile_id"
        f"{_due_filter(due).replace('profile_id', 'p.profile_id', 1)})"
    )
    select, joins = ["p.profile_id", *people], []
    for source, traits in by_source.items():
        if source == "profiles":
            continue
        usable = source in present and "profile_keys" in present
        usable = usable and (source != "order_lines" or "orders" in present)
        for trait in traits:
            select.append(_final(trait, usable))
        if not usable:
            continue
        ctes.append(_fact_cte(source, _columns(traits), as_of, _since(traits, as_of)))
        plain = [t for t in traits if t.aggregate not in _RANKED and not t.is_list]
        if plain:
            measures = ", ".join(f"{_aggregate(t, as_of)} AS {quote(t.name)}" for t in plain)
            ctes.append(f"a_{source} AS (SELECT _pk, {measures} FROM f_{source} GROUP BY _pk)")
            joins.append(f"LEFT JOIN a_{source} ON a_{source}._pk = p.profile_key")
        for trait in traits:
            if trait.aggregate in _RANKED or trait.is_list:
                maker = _unique_cte if trait.is_list else _ranked_cte
                ctes.append(maker(trait, as_of))
                joins.append(f"LEFT JOIN r_{trait.name} ON r_{trait.name}._pk = p.profile_key")
    return (
        "WITH " + ",\n".join(ctes) + "\nSELECT " + ", ".join(select) + " FROM people p "
        + " ".join(joins) + " ORDER BY p.profile_id"
    )  # fmt: skip


def _final(trait: TraitSpec, usable: bool) -> str:
    name = quote(trait.name)
    owner = (
        f"r_{trait.name}" if trait.aggregate in _RANKED or trait.is_list else f"a_{trait.source}"
    )
    if not usable:
        empty = "0" if trait.aggregate in _ZERO_WHEN_EMPTY else "NULL"
        if trait.aggregate in ("sum", "avg"):
            empty = f"CAST({empty} AS DOUBLE)"
        return f"{empty} AS {name}"
    if trait.aggregate in _ZERO_WHEN_EMPTY:
        return f"coalesce({owner}.{name}, 0) AS {name}"
    return f"{owner}.{name}"


def _columns(traits: list[TraitSpec]) -> set[str]:
    names: set[str] = set()
    for trait in traits:
        for text in (trait.column, trait.where):
            if text:
                names |= columns_named(text)
    return names


def _since(traits: list[TraitSpec], as_of: date) -> datetime | None:
    """The earliest row any trait of the source needs (None when one has no window)."""
    if any(t.window_days is None for t in traits):
        return None
    return min(window_bounds(as_of, t.window_days) for t in traits)


# -- finishing: lists, the JSON map, tags --------------------------------------------------------


def finish_sql(spec: TraitsSpec) -> str:
    """Over the relation ``wide`` (the engine's rows): ``profile_id``, ``traits`` (JSON),
    ``tags`` and the tags of each dimension."""
    shaped = [
        (
            f"list_slice(list_sort(list_distinct({quote(t.name)})), 1, {t.limit}) AS "
            f"{quote(t.name)}"
            if t.is_list
            else quote(t.name)
        )
        for t in spec.traits
    ]
    packed = ", ".join(f"{_lit(t.name)}: {quote(t.name)}" for t in spec.traits)
    dims = {d: _tag_list(spec, d) for d in DIMENSIONS}
    every = "flatten([" + ", ".join(f"{d}_tags" for d in DIMENSIONS) + "])"
    return (
        f"WITH w AS (SELECT profile_id, {', '.join(shaped)} FROM wide), "
        f"t AS (SELECT *, {', '.join(f'{sql} AS {d}_tags' for d, sql in dims.items())} FROM w) "
        f"SELECT profile_id, CAST(to_json({{{packed}}}) AS VARCHAR) AS traits, {every} AS tags, "
        f"{', '.join(f'{d}_tags' for d in DIMENSIONS)} FROM t ORDER BY profile_id"
    )


def _tag_list(spec: TraitsSpec, dimension: str) -> str:
    parts = []
    names = {t.name for t in spec.traits}
    for tag in spec.tags:
        if tag.dimension != dimension:
            continue
        if tag.when is not None:
            cond = render_condition(tag.when, names, field="when")
            parts.append(f"[CASE WHEN coalesce({cond}, false) THEN {_lit(tag.name)} END]")
        elif spec.trait(tag.from_trait or "").is_list:
            parts.append(
                f"list_transform(coalesce({quote(tag.from_trait or '')}, []), "
                f"lambda x: {_lit(tag.prefix)} || x)"
            )
        else:
            value = f"CAST({quote(tag.from_trait or '')} AS VARCHAR)"
            parts.append(f"[{_lit(tag.prefix)} || {value}]")
    if not parts:
        return "CAST([] AS VARCHAR[])"
    return f"list_filter(flatten([{', '.join(parts)}]), lambda x: x IS NOT NULL AND x <> '')"


# -- incremental: which profiles to recompute ------------------------------------------------------


@dataclass(frozen=True)
class DueSince:
    """What the last run saw: its as-of date and, per input table, the newest ``loaded_at``
    (``profiles``: ``updated_at``); a table missing here counts as entirely new."""

    as_of: date
    loaded: Mapping[str, datetime]


def due_sql(
    spec: TraitsSpec, as_of: date, last: DueSince, *, present: Collection[str]
) -> str | None:
    """Profiles whose traits may differ from the stored ones: new or changed rows since the
    last run, rows entering or leaving a window because the as-of date moved, ages that changed
    and profiles rebuilt since; None when nothing can have changed."""
    parts: list[str] = []
    for source in sorted({t.source for t in spec.traits} - {"profiles"}):
        traits = [t for t in spec.traits if t.source == source]
        if source not in present or "profile_keys" not in present:
            continue
        if source == "order_lines" and "orders" not in present:
            continue
        parts.extend(_due_rows(source, traits, as_of, last))
    if "profiles" in present:
        changed = [_newer("p", "updated_at", last.loaded.get("profiles"))]
        ages = any(t.column == "age" for t in spec.traits if t.source == "profiles")
        if ages and last.as_of != as_of:
            changed.append(f"{_age('p.birthday', as_of)} <> {_age('p.birthday', last.as_of)}")
        parts.append(f"SELECT p.profile_id FROM profiles p WHERE {' OR '.join(changed)}")
    if not parts:
        return None
    return "SELECT DISTINCT profile_id FROM (" + " UNION ALL ".join(parts) + ") ORDER BY 1"


def _newer(alias: str, column: str, mark: datetime | None) -> str:
    return "TRUE" if mark is None else f"{alias}.{column} > {_ts(mark)}"


def _moved(column: str, traits: list[TraitSpec], as_of: date, last: date) -> list[str]:
    """Rows entering or leaving the whole history or a window between two as-of dates."""
    if as_of == last:
        return []
    ranges = []
    for days in sorted({None, *(t.window_days for t in traits)}, key=lambda d: d or 0):
        a, b = sorted((window_bounds(as_of, days), window_bounds(last, days)))
        ranges.append(f"({column} >= {_ts(a)} AND {column} < {_ts(b)})")
    return ranges


def _due_rows(source: str, traits: list[TraitSpec], as_of: date, last: DueSince) -> list[str]:
    if source == "events":
        why = " OR ".join(
            [_newer("e", "loaded_at", last.loaded.get("events")),
             *_moved("e.timestamp", traits, as_of, last.as_of)]
        )  # fmt: skip
        return [
            f"SELECT k.profile_id FROM events e JOIN profile_keys k ON k.ref_type = '{key}' "
            f"AND k.ref_value = e.{key} WHERE {why}"
            for key in ("user_id", "anonymous_id")
        ]
    if source == "order_lines":
        why = " OR ".join(
            [_newer("l", "loaded_at", last.loaded.get("order_lines")),
             _newer("o", "loaded_at", last.loaded.get("orders")),
             *_moved("o.ordered_at", traits, as_of, last.as_of)]
        )  # fmt: skip
        return [
            "SELECT k.profile_id FROM order_lines l JOIN orders o ON o.order_id = l.order_id "
            f"JOIN profile_keys k ON {_KEY_JOIN.format(a='o')} WHERE {why}"
        ]
    time_col = SOURCES[source].time_column
    why = " OR ".join(
        [_newer("s", "loaded_at", last.loaded.get(source)),
         *_moved(f"s.{time_col}", traits, as_of, last.as_of)]
    )  # fmt: skip
    return [
        f"SELECT k.profile_id FROM {source} s JOIN profile_keys k ON {_KEY_JOIN.format(a='s')} "
        f"WHERE {why}"
    ]
