"""Dependencies shared by routes, as ``Annotated`` aliases: the workspace and the caller.

They are ``async`` on purpose: each is either pure (the workspace, the role check) or one indexed
lookup in the operational store well under a millisecond, and FastAPI runs a sync dependency in
the thread pool, a hop that costs more than the work itself (a profile lookup went from about
270 to over 1,000 requests/s on one worker when these stopped hopping).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from custodia.core.errors import AuthenticationError, PermissionDeniedError
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord, verify_token
from custodia.workspace import Workspace

STORE_INT_MAX = 2**63 - 1
"""The largest offset, sequence number or id a query parameter may carry: the store's integers
are 64-bit, and a larger one reached SQLite as an OverflowError (a 500) instead of a 422."""

_bearer = HTTPBearer(
    auto_error=False,
    description="API token (`custodia init`) or login session token (POST /v1/auth/login)",
)


async def get_workspace(request: Request) -> Workspace:
    ws = request.app.state.workspace
    assert isinstance(ws, Workspace)
    return ws


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]


async def current_token(
    ws: WorkspaceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenRecord:
    """The verified token of the caller; 401 when it is missing, unknown, revoked or expired.

    API tokens and login sessions are the same kind of record (a session is a token of
    ``kind='session'`` tied to a user), checked here by one path: :func:`verify_token`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("missing API token: send 'Authorization: Bearer <token>'")
    record = verify_token(ws.store, credentials.credentials)
    if record is None:
        ws.token_refusals.refused(credentials.credentials)  # audited, throttled, no secret
        raise AuthenticationError("unknown, revoked or expired API token")
    return record


CallerDep = Annotated[TokenRecord, Depends(current_token)]


def require_role(*roles: Role) -> Callable[[TokenRecord], Coroutine[Any, Any, TokenRecord]]:
    """A dependency that admits only tokens whose role is one of ``roles`` (403 otherwise)."""

    async def check(caller: CallerDep) -> TokenRecord:
        if caller.role not in roles:
            raise PermissionDeniedError(
                f"role '{caller.role}' may not use this route; needs one of "
                f"{', '.join(r.value for r in roles)}"
            )
        return caller

    return check


AdminDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN))]
