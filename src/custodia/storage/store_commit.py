"""Work that must wait until a store transaction has committed.

Some effects belong outside the database yet must only happen once a write is durable: the audit
chain's anchor (:mod:`custodia.storage.audit_anchor`) may vouch only for entries that exist, so it
is written after the commit, never before. :meth:`OperationalStore.begin` keeps a list of such
callbacks on the connection and runs them after a successful commit; after a rollback they are
dropped.

Example::

    with store.begin() as conn:
        conn.execute(...)
        after_commit(conn, lambda: print("durable"))   # runs once the transaction committed
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy.engine import Connection

__all__ = ["after_commit", "collecting_after_commit"]

_HOOKS_KEY: Final = "custodia.after_commit"


def after_commit(conn: Connection, callback: Callable[[], None]) -> bool:
    """Run ``callback`` once ``conn``'s transaction commits; False when nobody will run it.

    Only transactions opened by :meth:`OperationalStore.begin` run callbacks: on any other
    connection the callback is not kept and the caller learns so from the result.
    """
    hooks = conn.info.get(_HOOKS_KEY)
    if hooks is None:
        return False
    hooks.append(callback)
    return True


@contextmanager
def collecting_after_commit(conn: Connection) -> Iterator[list[Callable[[], None]]]:
    """Collect callbacks on ``conn`` for the duration of one transaction.

    ``Connection.info`` outlives the checkout (it belongs to the pooled DBAPI connection), so
    the list is always removed again, whatever happens inside.
    """
    hooks: list[Callable[[], None]] = []
    conn.info[_HOOKS_KEY] = hooks
    try:
        yield hooks
    finally:
        conn.info.pop(_HOOKS_KEY, None)
