"""The SQL a mapping compiles to, for one engine: DuckDB here; Spark gets its own subclass.

Mapping transforms (dates, casts, splits, lookups) are declared once in YAML and rendered late
through a dialect object, the way splink renders comparison levels: everything engine-specific
sits in this one class, so a Spark dialect overrides these methods and nothing else changes.

Dates accepted by ``parse_date: auto`` (after full-width digits and punctuation are folded to
ASCII): ISO 8601 with or without ``T``, seconds, fractions and offset; ``2026/3/5 14:03``;
``2026.3.5``; ``2026年3月5日``, ``2026年3月5日 14:03``, ``2026年3月5日14时03分``;
``05-Mar-2026``; ``5 March 2026``; ``Mar 5, 2026`` and ``March 5, 2026`` (with an optional time,
24-hour or AM/PM); ``20260305``; epoch seconds (9-10 digits) and milliseconds (12-13 digits).
Ambiguous day/month orders (``03/05/2026``) are not guessed: list the format explicitly.

Example::

    DUCKDB.parse_timestamp("created_at", None)   # SQL giving an aware UTC timestamp
"""

from __future__ import annotations

from custodia.core.sql_text import quote_literal

__all__ = ["AUTO_DATE_FORMATS", "DUCKDB", "DuckDBDialect"]

AUTO_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M",
    "%Y年%m月%d日 %H时%M分%S秒",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日%H时%M分%S秒",
    "%Y年%m月%d日%H时%M分",
    "%Y年%m月%d日",
    "%Y年%m月%d号",
    "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y %H:%M",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M:%S",
    "%b %d, %Y %H:%M",
    "%b %d, %Y",
    "%B %d, %Y %I:%M %p",
    "%B %d, %Y %H:%M",
    "%B %d, %Y",
    "%b %d %Y",
    "%Y%m%d",
)

_FULL_WIDTH = "０１２３４５６７８９／－：．，　"
_HALF_WIDTH = "0123456789/-:., "
_TRUE_WORDS = ("true", "t", "yes", "y", "1", "是", "对", "真", "√")
_FALSE_WORDS = ("false", "f", "no", "n", "0", "否", "错", "假", "×")
_CAST_TYPES = {
    "text": "VARCHAR",
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "int": "BIGINT",
    "integer": "BIGINT",
    "bigint": "BIGINT",
    "float": "DOUBLE",
    "double": "DOUBLE",
    "decimal": "DECIMAL(18, 2)",
}


class DuckDBDialect:
    """Renders mapping transforms as DuckDB SQL.

    Date parsing goes through two macros defined per source (:meth:`macros`), so a column's
    expression stays short however many formats it tries.
    """

    name = "duckdb"

    def macros(self, timezone: str) -> list[str]:
        """Statements defining ``custodia_ts(x, formats)`` (aware, UTC) and
        ``custodia_local(x, formats)`` (naive, the source's local time) for one source."""
        zone = quote_literal(timezone)
        text = (
            f"trim(translate(CAST(x AS VARCHAR), {quote_literal(_FULL_WIDTH)}, "
            f"{quote_literal(_HALF_WIDTH)}))"
        )
        aware = (
            f"CASE WHEN regexp_full_match({text}, '\\d{{9,10}}(\\.\\d+)?') "
            f"THEN to_timestamp(CAST({text} AS DOUBLE)) "
            f"WHEN regexp_full_match({text}, '\\d{{12,13}}') "
            f"THEN to_timestamp(CAST({text} AS DOUBLE) / 1000) "
            f"WHEN regexp_full_match({text}, '\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}.*(Z|[+-]\\d{{2}}(:?\\d{{2}})?)') "  # noqa: E501
            f"THEN TRY_CAST({text} AS TIMESTAMPTZ) "
            f"ELSE timezone({zone}, try_strptime({text}, formats)) END"
        )
        auto = self._formats(None)
        return [
            f"CREATE OR REPLACE MACRO custodia_ts(x, formats) AS {aware}",
            "CREATE OR REPLACE MACRO custodia_local(x, formats) AS "
            f"timezone({zone}, custodia_ts(x, formats))",
            f"CREATE OR REPLACE MACRO custodia_ts_auto(x) AS custodia_ts(x, {auto})",
            f"CREATE OR REPLACE MACRO custodia_local_auto(x) AS custodia_local(x, {auto})",
        ]

    def parse_timestamp(self, value: str, formats: list[str] | None) -> str:
        """An aware timestamp (UTC) from text in any accepted format; naive text is local."""
        if formats is None:
            return f"custodia_ts_auto({value})"
        return f"custodia_ts({value}, {self._formats(formats)})"

    def parse_date(self, value: str, formats: list[str] | None) -> str:
        """The calendar date in the source's time zone."""
        if formats is None:
            return f"CAST(custodia_local_auto({value}) AS DATE)"
        return f"CAST(custodia_local({value}, {self._formats(formats)}) AS DATE)"

    def text(self, value: str) -> str:
        return f"CAST({value} AS VARCHAR)"

    def concat(self, values: list[str], sep: str) -> str:
        parts = ", ".join(self.text(v) for v in values)
        return f"NULLIF(concat_ws({quote_literal(sep)}, {parts}), '')"

    def split_part(self, value: str, sep: str, part: int) -> str:
        return f"NULLIF(split_part({self.text(value)}, {quote_literal(sep)}, {int(part)}), '')"

    def trim(self, value: str) -> str:
        return f"NULLIF(trim({self.text(value)}), '')"

    def cast(self, value: str, type_name: str) -> str:
        """``TRY_CAST`` to a declared type; numbers may carry thousands separators and a
        currency sign (``¥1,299.00``), booleans may be words (``是``/``否``, ``yes``/``no``)."""
        kind = type_name.strip().lower()
        if kind in {"bool", "boolean"}:
            return self._boolean(value)
        sql_type = _CAST_TYPES.get(kind) or _decimal_type(kind)
        if sql_type == "VARCHAR":
            return self.text(value)
        cleaned = (
            f"regexp_replace(translate(trim({self.text(value)}), "
            f"{quote_literal(_FULL_WIDTH)}, {quote_literal(_HALF_WIDTH)}), '[,¥￥$\\s]', '', 'g')"
        )
        return f"TRY_CAST({cleaned} AS {sql_type})"

    def lookup(self, value: str, table: dict[str, str | None], *, keep_unmatched: bool) -> str:
        """A ``CASE`` over a small table of text keys; unmatched values become NULL or stay."""
        subject = self.text(value)
        whens = " ".join(
            f"WHEN {quote_literal(k)} THEN {'NULL' if v is None else quote_literal(v)}"
            for k, v in table.items()
        )
        other = subject if keep_unmatched else "NULL"
        return f"CASE {subject} {whens} ELSE {other} END"

    def _boolean(self, value: str) -> str:
        word = f"lower(trim({self.text(value)}))"
        yes = ", ".join(quote_literal(w) for w in _TRUE_WORDS)
        no = ", ".join(quote_literal(w) for w in _FALSE_WORDS)
        return f"CASE WHEN {word} IN ({yes}) THEN TRUE WHEN {word} IN ({no}) THEN FALSE END"

    def _formats(self, formats: list[str] | None) -> str:
        chosen = formats or list(AUTO_DATE_FORMATS)
        return "[" + ", ".join(quote_literal(f) for f in chosen) + "]"


def _decimal_type(kind: str) -> str:
    import re

    match = re.fullmatch(r"decimal\(\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)", kind)
    if not match:
        raise ValueError(f"unknown cast type '{kind}'")
    precision, scale = int(match.group(1)), int(match.group(2))
    if not 0 < precision <= 38 or scale > precision:
        raise ValueError(f"decimal precision/scale out of range in '{kind}'")
    return f"DECIMAL({precision}, {scale})"


DUCKDB = DuckDBDialect()
