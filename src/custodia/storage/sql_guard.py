"""Parse and police SQL before DuckDB sees it: read-only checks, table references, time travel.

``custodia sql`` runs what a person types, so the statement is parsed with sqlglot (DuckDB
dialect) and refused unless it is one read-only query (SELECT / WITH / VALUES / set operations)
that reads lakehouse tables by name. Table functions that reach files or other databases are
refused here; DuckDB's ``enable_external_access=false`` is the second fence.

Databricks-style time travel (``FROM events VERSION AS OF 3``, ``TIMESTAMP AS OF '...'``) is
parsed into :class:`TimeTravel` so the engine can bind each reference to its own snapshot.

Example::

    tree = parse_read_only("select count(*) from events version as of 3")
    for ref in table_references(tree):
        print(ref.key, time_travel_of(ref.node))  # events TimeTravel(version=3, ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlglot
from sqlglot import Token, TokenType, exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.optimizer.scope import traverse_scope

from custodia.core.errors import QueryError, ReadOnlyViolationError

__all__ = [
    "TableReference",
    "TimeTravel",
    "parse_read_only",
    "parse_trusted",
    "splice_table_names",
    "table_references",
    "time_travel_of",
]

DIALECT = "duckdb"
_FIRST_TOKENS = frozenset(
    {TokenType.SELECT, TokenType.WITH, TokenType.FROM, TokenType.VALUES, TokenType.L_PAREN}
)
# DuckDB statements that sqlglot tokenizes as plain words rather than keywords.
_VAR_STATEMENTS = frozenset({"export", "import", "checkpoint", "deallocate", "update_extensions"})
_ALLOWED_ROOTS = (exp.Select, exp.SetOperation, exp.Values, exp.Subquery)
# Statement kinds that must not appear anywhere in an untrusted query (e.g. inside a CTE).
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = (
    exp.DML,
    exp.Insert,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Install,
    exp.Into,
    exp.Describe,
    exp.Export,
    exp.LoadData,
    exp.TruncateTable,
    exp.Analyze,
    exp.Grant,
    exp.Revoke,
)
_TABLE_FUNCTIONS_ALLOWED = frozenset({"generate_series", "range", "unnest"})
_FILE_FUNCTIONS = frozenset(
    {
        "glob",
        "getenv",
        "query",
        "query_table",
        "sniff_csv",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "parquet_bloom_probe",
        "sqlite_attach",
        "postgres_attach",
        "postgres_query",
        "mysql_query",
        "load_aws_credentials",
        "which_secret",
        "duckdb_secrets",
        "duckdb_extensions",
    }
)


@dataclass(frozen=True)
class TimeTravel:
    """A parsed ``VERSION AS OF`` / ``TIMESTAMP AS OF``; ``problem`` says why it is unusable."""

    version: int | None = None
    timestamp: datetime | None = None
    problem: str | None = None


@dataclass(frozen=True)
class TableReference:
    """A reference to a named table in the query; ``key`` is ``name`` or ``zone.name``."""

    node: exp.Table
    name: str
    zone: str | None

    @property
    def key(self) -> str:
        return f"{self.zone}.{self.name}" if self.zone else self.name


def parse_read_only(sql: str) -> exp.Expr:
    """Parse one read-only query or raise :class:`ReadOnlyViolationError` / :class:`QueryError`."""
    tokens = _tokenize(sql)
    _check_single_statement(tokens)
    first = tokens[0]
    if first.token_type not in _FIRST_TOKENS:
        if first.token_type == TokenType.VAR and first.text.lower() not in _VAR_STATEMENTS:
            raise QueryError(f"syntax error at line 1: unexpected '{first.text}'")
        raise ReadOnlyViolationError(
            f"only read-only queries (SELECT, WITH, VALUES, UNION) are allowed; "
            f"got {first.text.upper()}"
        )
    tree = _parse_one(sql)
    _check_read_only_tree(tree)
    return tree


def parse_trusted(sql: str) -> exp.Expr:
    """Parse one statement of pipeline SQL without the read-only rules."""
    tokens = _tokenize(sql)
    _check_single_statement(tokens)
    return _parse_one(sql)


def table_references(tree: exp.Expr, *, strict: bool = True) -> list[TableReference]:
    """Named-table references in ``tree`` that are not CTE names.

    With ``strict`` a table function other than range / generate_series / unnest is refused.
    """
    cte_refs = _cte_reference_ids(tree)
    found: list[TableReference] = []
    for node in tree.find_all(exp.Table):
        if isinstance(node.this, exp.Func):
            if strict:
                _check_table_function(node.this)
            continue
        if id(node) not in cte_refs and node.name:
            found.append(TableReference(node, _identifier(node.this), _zone_of(node)))
    return found


def time_travel_of(node: exp.Table) -> TimeTravel | None:
    """The time travel clause on a table reference, or None."""
    clause = node.args.get("version")
    if not isinstance(clause, exp.Version):
        return None
    kind = str(clause.args.get("kind") or "").upper()
    if kind != "AS OF":
        return TimeTravel(problem=f"only VERSION AS OF / TIMESTAMP AS OF are supported, not {kind}")
    if str(clause.this).upper() == "VERSION":
        return _version_spec(clause.expression)
    return _timestamp_spec(clause.expression)


def splice_table_names(sql: str, renames: list[tuple[TableReference, str]]) -> str | None:
    """``sql`` with each reference (and its time travel clause) replaced by a new name.

    Splicing the user's own text, instead of regenerating it from the tree, keeps what DuckDB
    runs identical to what was typed (column names, literals, casts). A reference without an
    alias is aliased to its table name so ``events.col`` still binds. Returns None when the
    parser did not record positions; callers then rewrite the tree.
    """
    edits: list[tuple[int, int, str]] = []
    for ref, new_name in renames:
        span = _source_span(ref.node)
        if span is None:
            return None
        alias = "" if ref.node.alias else f" AS {quote_identifier(ref.name)}"
        edits.append((*span, quote_identifier(new_name) + alias))
    for start, end, text in sorted(edits, reverse=True):
        sql = sql[:start] + text + sql[end:]
    return sql


def quote_identifier(name: str) -> str:
    """The one place identifiers are quoted for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def _source_span(node: exp.Table) -> tuple[int, int] | None:
    """[start, end) of a table reference in the source text, time travel clause included."""
    names = [node.args.get(k) for k in ("catalog", "db", "this")]
    parts: list[exp.Expr] = [p for p in names if isinstance(p, exp.Identifier)]
    clause = node.args.get("version")
    if clause is not None:
        parts += [n for n in clause.walk() if isinstance(n, exp.Expr) and "end" in n.meta]
    if not parts or any("start" not in p.meta or "end" not in p.meta for p in parts):
        return None
    return min(int(p.meta["start"]) for p in parts), max(int(p.meta["end"]) for p in parts) + 1


# -- statement checks ---------------------------------------------------------------------------


def _tokenize(sql: str) -> list[Token]:
    try:
        tokens = Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError as err:
        raise QueryError(f"syntax error: {_one_line(str(err))}") from None
    meaningful = [t for t in tokens if t.token_type != TokenType.SEMICOLON]
    if not meaningful:
        raise QueryError("empty query")
    return tokens


def _check_single_statement(tokens: list[Token]) -> None:
    seen_separator = False
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            seen_separator = True
        elif seen_separator:
            raise ReadOnlyViolationError("only one statement per query is allowed")


def _parse_one(sql: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except ParseError as err:
        raise QueryError(_parse_error_line(err)) from None
    except SqlglotError as err:
        raise QueryError(f"syntax error: {_one_line(str(err))}") from None
    if len(statements) != 1:
        raise ReadOnlyViolationError("only one statement per query is allowed")
    return statements[0]


def _check_read_only_tree(tree: exp.Expr) -> None:
    if not isinstance(tree, _ALLOWED_ROOTS):
        raise ReadOnlyViolationError(
            f"only read-only queries (SELECT, WITH, VALUES, UNION) are allowed; "
            f"got {type(tree).__name__.upper()}"
        )
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise ReadOnlyViolationError(
                f"{type(node).__name__.upper()} is not allowed in a read-only query"
            )
        if isinstance(node, exp.Func):
            _check_function(node)


def _check_function(func: exp.Func) -> None:
    name = _function_name(func)
    if name.startswith("read_") or name in _FILE_FUNCTIONS or name.endswith(("_scan", "_attach")):
        raise ReadOnlyViolationError(
            f"function '{name}' reads files or other databases and is not allowed; "
            f"query lakehouse tables by name"
        )


def _check_table_function(func: exp.Func) -> None:
    name = _function_name(func)
    if name not in _TABLE_FUNCTIONS_ALLOWED:
        raise ReadOnlyViolationError(
            f"table function '{name}' is not allowed; query lakehouse tables by name"
        )


def _function_name(func: exp.Func) -> str:
    if isinstance(func, exp.Anonymous):
        return str(func.name).lower()
    return func.sql_name().lower()


# -- references -----------------------------------------------------------------------------


def _cte_reference_ids(tree: exp.Expr) -> set[int]:
    """ids of Table nodes that name a CTE visible in their scope."""
    try:
        scopes = traverse_scope(tree)
    except SqlglotError:
        scopes = []
    if not scopes:
        names = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
        return {id(t) for t in tree.find_all(exp.Table) if not t.db and t.name in names}
    refs: set[int] = set()
    for scope in scopes:
        refs |= {id(t) for t in scope.tables if not t.db and t.name in scope.cte_sources}
    return refs


def _identifier(node: exp.Expr | None) -> str:
    if isinstance(node, exp.Identifier):
        return str(node.this) if node.quoted else str(node.this).lower()
    return str(node.name if node is not None else "").lower()


def _zone_of(node: exp.Table) -> str | None:
    db = node.args.get("db")
    return _identifier(db) if db is not None else None


# -- time travel ----------------------------------------------------------------------------


def _version_spec(value: exp.Expr | None) -> TimeTravel:
    if isinstance(value, exp.Neg):
        return TimeTravel(problem="VERSION AS OF needs a non-negative integer")
    if isinstance(value, exp.Literal) and not value.is_string and str(value.this).isdigit():
        return TimeTravel(version=int(str(value.this)))
    return TimeTravel(problem="VERSION AS OF needs an integer version number")


def _timestamp_spec(value: exp.Expr | None) -> TimeTravel:
    if isinstance(value, exp.Cast):
        value = value.this
    if not (isinstance(value, exp.Literal) and value.is_string):
        return TimeTravel(
            problem="TIMESTAMP AS OF needs a literal timestamp such as '2026-11-24 10:00:00'"
        )
    try:
        moment = datetime.fromisoformat(str(value.this).strip())
    except ValueError:
        return TimeTravel(problem="TIMESTAMP AS OF value is not an ISO date or timestamp")
    return TimeTravel(timestamp=moment if moment.tzinfo else moment.replace(tzinfo=UTC))


# -- messages -------------------------------------------------------------------------------


def _parse_error_line(err: ParseError) -> str:
    if not err.errors:
        return f"syntax error: {_one_line(str(err))}"
    first = err.errors[0]
    description = _one_line(str(first.get("description") or "invalid syntax"))
    near = _one_line(str(first.get("highlight") or ""))
    where = f"line {first.get('line')}, column {first.get('col')}"
    return f"syntax error at {where}: {description}" + (f" near '{near}'" if near else "")


def _one_line(text: str) -> str:
    plain = text.replace("\x1b[4m", "").replace("\x1b[0m", "")
    return " ".join(plain.split())[:300]
