"""Dependencies shared by routes, as ``Annotated`` aliases: the workspace and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from custodia.core.errors import AuthenticationError
from custodia.privacy.tokens import TokenRecord, verify_token
from custodia.workspace import Workspace

_bearer = HTTPBearer(auto_error=False, description="API token from `custodia init`")


def get_workspace(request: Request) -> Workspace:
    ws = request.app.state.workspace
    assert isinstance(ws, Workspace)
    return ws


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]


def current_token(
    ws: WorkspaceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenRecord:
    """The verified API token of the caller; 401 when it is missing, unknown, revoked or expired."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("missing API token: send 'Authorization: Bearer <token>'")
    record = verify_token(ws.store, credentials.credentials)
    if record is None:
        raise AuthenticationError("unknown, revoked or expired API token")
    return record


CallerDep = Annotated[TokenRecord, Depends(current_token)]
