"""One audit entry per version of a privacy policy file.

A policy file is edited by hand, outside Custodia, so there is no write to hook. Instead the
process that loads a changed file records its SHA-256 (``policy.change``, resource = the file's
path under HOME, details: the new and previous digests). A version that the newest entry for
that file already names is not recorded again, so restarts and several server processes
loading the same file add nothing.

Two processes loading the same new version at the same instant can each record it. The window
is one read and one append, and it is documented in ``docs/privacy-masking.md``.

Example::

    audit = PolicyChangeAudit(store)
    audit("privacy/policy.yaml", text)     # True: recorded
    audit("privacy/policy.yaml", text)     # False: this version is already on record
"""

from __future__ import annotations

import hashlib
from typing import Final

from custodia.core.clock import Clock, SystemClock
from custodia.storage.store import AuditLog, OperationalStore

__all__ = ["POLICY_CHANGE", "PolicyChangeAudit"]

POLICY_CHANGE: Final = "policy.change"
_LOOK_BACK: Final = 200


class PolicyChangeAudit:
    """Callable that records a policy file's version unless it is the one on record."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._log = AuditLog(store, clock or SystemClock())

    def __call__(self, origin: str, text: str) -> bool:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        previous = self.recorded(origin)
        if previous == digest:
            return False
        details = {"sha256": digest, "previous_sha256": previous}
        self._log.append("custodia", POLICY_CHANGE, origin, details=details)
        return True

    def recorded(self, origin: str) -> str | None:
        """The digest of the newest recorded version of ``origin``, if any."""
        for entry in self._log.entries(actions=[POLICY_CHANGE], limit=_LOOK_BACK):
            if entry.resource == origin and isinstance(entry.details, dict):
                digest = entry.details.get("sha256")
                return digest if isinstance(digest, str) else None
        return None
