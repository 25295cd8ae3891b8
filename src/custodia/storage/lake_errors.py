"""Translate delta-rs exceptions into Custodia's error tree, keeping messages safe.

delta-rs messages can run to many lines and some show rows of the data (e.g. a NOT NULL
violation prints a preview table), so only the first line is kept.

Example::

    with delta_errors("raw.events"):
        table.delete(...)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.exceptions import SchemaMismatchError as DeltaSchemaMismatchError
from deltalake.exceptions import TableNotFoundError as DeltaTableNotFoundError

from custodia.core.errors import (
    CommitConflictError,
    SchemaMismatchError,
    StorageError,
    TableNotFoundError,
)

__all__ = ["delta_errors"]


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:240]


@contextmanager
def delta_errors(label: str) -> Iterator[None]:
    """Translate delta-rs errors; only the first line survives (later lines can show rows)."""
    try:
        yield
    except CommitFailedError as err:
        raise CommitConflictError(
            f"{label}: a concurrent writer committed first; retry ({_first_line(err)})"
        ) from None
    except DeltaTableNotFoundError:
        raise TableNotFoundError(f"table '{label}' does not exist") from None
    except DeltaSchemaMismatchError as err:
        raise SchemaMismatchError(f"{label}: {_first_line(err)}") from None
    except DeltaError as err:
        raise StorageError(f"{label}: {_first_line(err)}") from None
