"""Console login: a username and a password in, a short-lived session token out.

:class:`ConsoleLogin` checks the password (Argon2id, :mod:`custodia.privacy.passwords`) and issues
a session with :func:`~custodia.privacy.tokens.issue_session`: a bearer token of
``kind='session'`` carrying the user's role, verified on every request by the same
:func:`~custodia.privacy.tokens.verify_token` as API tokens, and revoked by logout, by
disabling the user, by a new role or a new password.

What a caller can learn is kept to the minimum:

- an unknown username, a wrong password and a disabled user all fail with the same
  :class:`AuthenticationError` message, after the same work (a password check is run against a
  stand-in hash when there is no user), so neither the answer nor its timing tells whether a
  username exists;
- failures are counted per username, known or not (:class:`LockoutPolicy`): after
  ``free_failures`` in a row every further one locks the name for twice as long as the last,
  from ``first_lock`` up to ``max_lock``; while locked, logins are refused with
  :class:`TooManyAttemptsError` (HTTP 429 with ``Retry-After``) without checking the password.
  Since unknown names lock the same way, the lock does not tell either. The count is kept under a
  keyed hash of the name (HMAC with the workspace secret), so names typed at the form (which may be
  passwords typed in the wrong field) are not stored; counts older than ``forget_after`` are
  dropped.

Every attempt writes one audit entry ``auth.login`` on ``users`` (success: actor
``user:<user id>``; failure: actor ``anonymous``, ``subject_ref`` the user id when the name is
known, ``details.rule`` saying why), never the password or the typed name.

Example::

    desk = ConsoleLogin(store, hashing=PasswordHashing(), throttle_secret=ws.secret(),
                        session_lifetime=timedelta(hours=1))
    session = desk.login("张伟", "四月的雨下个不停 2026")
    session.token          # Bearer token, shown once
"""

from __future__ import annotations

import hashlib
import hmac
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, NoReturn

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import AuthenticationError, TooManyAttemptsError, ValidationError
from custodia.privacy.passwords import PasswordHashing
from custodia.privacy.tokens import TokenRecord, issue_session
from custodia.privacy.users import UserRecord, find_credentials
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import JsonValue
from custodia.storage.store_users import LoginThrottleTable, ThrottleState, UserTable

__all__ = ["LOGIN_FAILED", "ConsoleLogin", "LockoutPolicy", "Session"]

LOGIN_FAILED: Final = "unknown username or wrong password"
"""The one message of every refused login that is not a lockout."""
ANONYMOUS: Final = "anonymous"
_THROTTLE_CONTEXT: Final = b"custodia login throttle\x00"


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """How failed logins of one username are slowed down.

    >>> policy = LockoutPolicy()
    >>> [policy.lock_for(n) for n in (4, 5, 6, 7)]  # doctest: +NORMALIZE_WHITESPACE
    [None, datetime.timedelta(seconds=60), datetime.timedelta(seconds=120),
     datetime.timedelta(seconds=240)]
    """

    free_failures: int = 5
    first_lock: timedelta = timedelta(minutes=1)
    max_lock: timedelta = timedelta(minutes=30)
    forget_after: timedelta = timedelta(hours=1)

    def lock_for(self, failures: int) -> timedelta | None:
        """How long the name is locked after ``failures`` failures in a row (None: not yet)."""
        if failures < self.free_failures:
            return None
        doublings: int = min(failures - self.free_failures, 32)
        lock: timedelta = self.first_lock * (1 << doublings)
        return min(lock, self.max_lock)

    def next_state(self, previous: int, at: datetime) -> ThrottleState:
        """(failures, locked until) after one more failure at ``at``."""
        failures = previous + 1
        lock = self.lock_for(failures)
        return failures, None if lock is None else at + lock


@dataclass(frozen=True, slots=True)
class Session:
    """A successful login: the bearer token (shown once, kept out of ``repr``), its record and
    the user it belongs to."""

    token: str = field(repr=False)
    record: TokenRecord
    user: UserRecord


class ConsoleLogin:
    """Checks usernames and passwords, counts failures and issues sessions."""

    def __init__(
        self,
        store: OperationalStore,
        *,
        hashing: PasswordHashing,
        throttle_secret: bytes,
        session_lifetime: timedelta,
        lockout: LockoutPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._hashing = hashing
        self._throttle_key = hmac.new(throttle_secret, _THROTTLE_CONTEXT, hashlib.sha256).digest()
        self._lifetime = session_lifetime
        self._lockout = lockout or LockoutPolicy()
        self._clock: Clock = clock or SystemClock()

    def login(self, username: str, password: str) -> Session:
        """A new session for the user, or :class:`AuthenticationError` (:data:`LOGIN_FAILED`),
        or :class:`TooManyAttemptsError` while the username is locked."""
        throttle = self.throttle_key(username)
        now = self._clock.now()
        self._refuse_if_locked(throttle, now)
        found = self._find(username)
        if found is None:
            self._hashing.verify_absent(password)
            self._fail(throttle, now, None, "unknown_user")
        user, stored = found
        if not self._hashing.verify(stored, password):
            self._fail(throttle, now, user.user_id, "wrong_password")
        if not user.active:
            self._fail(throttle, now, user.user_id, "user_disabled")
        return self._open_session(throttle, user, stored, password, now)

    def throttle_key(self, username: str) -> str:
        """The key failures of ``username`` are counted under: HMAC of its folded form."""
        folded = unicodedata.normalize("NFKC", username).strip().casefold()
        return hmac.new(
            self._throttle_key, folded.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).hexdigest()

    def _find(self, username: str) -> tuple[UserRecord, str] | None:
        try:
            return find_credentials(self._store, username)
        except ValidationError:  # not a valid username: no user has it
            return None

    def _refuse_if_locked(self, throttle: str, now: datetime) -> None:
        until = LoginThrottleTable(self._store).locked_until(throttle)
        if until is None or until <= now:
            return
        details: JsonValue = {"outcome": "refused", "rule": "locked"}
        AuditLog(self._store, self._clock).append(ANONYMOUS, "auth.login", "users",
                                                  details=details)  # fmt: skip
        raise TooManyAttemptsError(math.ceil((until - now).total_seconds()))

    def _fail(self, throttle: str, now: datetime, user_id: str | None, rule: str) -> NoReturn:
        def details(state: ThrottleState) -> JsonValue:
            return {"outcome": "refused", "rule": rule, "failures": state[0],
                    "locked": state[1] is not None}  # fmt: skip

        LoginThrottleTable(self._store, self._clock).record_failure(
            throttle, now,
            forget_before=now - self._lockout.forget_after,
            next_state=lambda previous: self._lockout.next_state(previous, now),
            actor=ANONYMOUS, subject_ref=user_id, details=details,
        )  # fmt: skip
        raise AuthenticationError(LOGIN_FAILED)

    def _open_session(
        self, throttle: str, user: UserRecord, stored: str, password: str, now: datetime
    ) -> Session:
        LoginThrottleTable(self._store).clear(throttle)
        rehashed = self._hashing.hash(password) if self._hashing.needs_rehash(stored) else None
        UserTable(self._store).record_login(user.user_id, now, rehashed)
        issued = issue_session(self._store, user.user_id, user.role,
                               expires_in=self._lifetime, clock=self._clock)  # fmt: skip
        return Session(token=issued.token, record=issued.record, user=user)
