"""The Custodia exception tree.

Every error Custodia raises on purpose derives from :class:`CustodiaError`. Messages carry context
(the table, column, field or rule involved) and never carry personal data values, so they can be
logged, returned in HTTP responses and printed by the CLI as they are.

::

    CustodiaError
    ├── ConfigurationError        settings missing, invalid or unsafe (e.g. placeholder secrets)
    ├── WorkspaceError            the workspace directory is missing, unwritable or corrupt
    ├── StorageError              the lakehouse or operational store refused an operation
    │   ├── SchemaMismatchError   data does not fit a table's declared schema (names the column)
    │   ├── TableNotFoundError    an unknown table was asked for (names it, lists known tables)
    │   ├── TimeTravelError       a VERSION / TIMESTAMP AS OF that the table cannot serve
    │   └── CommitConflictError   a concurrent writer committed first
    ├── QueryError                a query was refused or failed
    │   └── ReadOnlyViolationError a statement would write, attach or read outside the lakehouse
    ├── ValidationError           bad input: names the field and the rule, never the value
    ├── AuthenticationError       a missing, unknown, revoked or expired token
    ├── TooManyAttemptsError      repeated failed logins: retry after a pause (HTTP 429)
    └── PermissionDeniedError     a valid caller whose role does not allow the action
"""

from __future__ import annotations


class CustodiaError(Exception):
    """Base of every error Custodia raises on purpose; ``str(err)`` is one safe line."""


class ConfigurationError(CustodiaError):
    """Settings are missing, invalid or unsafe for the chosen environment."""


class WorkspaceError(CustodiaError):
    """The workspace directory is missing, unwritable, or not a Custodia workspace."""


class StorageError(CustodiaError):
    """The lakehouse or the operational store refused an operation."""


class SchemaMismatchError(StorageError):
    """Data does not fit a table's declared schema; the message names the column."""


class TableNotFoundError(StorageError):
    """A table that does not exist was asked for."""


class TimeTravelError(StorageError):
    """A ``VERSION AS OF`` or ``TIMESTAMP AS OF`` that the table's history cannot serve."""


class CommitConflictError(StorageError):
    """Another writer committed to the same table first; retry the operation."""


class QueryError(CustodiaError):
    """A query was refused or failed."""


class ReadOnlyViolationError(QueryError):
    """A statement would write, attach, configure, or read files outside the lakehouse."""


class ValidationError(CustodiaError):
    """Bad input. ``field`` and ``rule`` say what is wrong; the value is never included."""

    def __init__(self, field: str, rule: str, message: str | None = None) -> None:
        self.field = field
        self.rule = rule
        super().__init__(message or f"{field}: violates rule '{rule}'")


class NotFoundError(CustodiaError):
    """A named resource (a profile, a record, a request) does not exist."""


class AuthenticationError(CustodiaError):
    """A credential is missing, unknown, revoked or expired."""


class PermissionDeniedError(CustodiaError):
    """The caller is known but its role does not allow the action."""


class TooManyAttemptsError(CustodiaError):
    """Too many failed attempts in a row (a login, say): refused until ``retry_after_seconds``
    have passed, whatever is sent meanwhile."""

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        self.retry_after_seconds = max(1, retry_after_seconds)
        super().__init__(
            message or f"too many failed attempts; retry in {self.retry_after_seconds} seconds"
        )
