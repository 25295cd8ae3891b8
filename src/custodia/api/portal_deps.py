"""The customer portal's caller: a portal token (``cpt_…``), never a staff API token.

Portal routes depend on :data:`PortalCallerDep` and nothing else for identity, so a staff token
is refused there with 401 (it is not a portal token), and a portal token is refused on every
other route with 401 (it is not an API token): the two verifiers accept only their own shape
and look only in their own table.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from custodia.api.deps import WorkspaceDep
from custodia.core.errors import AuthenticationError
from custodia.privacy.portal_tokens import PortalTokenRecord, verify_portal_token

_portal_bearer = HTTPBearer(
    auto_error=False, scheme_name="PortalToken", description="Customer portal token (cpt_…)"
)


async def current_portal_caller(
    ws: WorkspaceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_portal_bearer)],
) -> PortalTokenRecord:
    """The verified portal token of the customer; 401 when missing, unknown, revoked, expired or
    not a portal token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("missing portal token: send 'Authorization: Bearer <token>'")
    record = verify_portal_token(ws.store, credentials.credentials, clock=ws.clock)
    if record is None:
        ws.portal_token_refusals.refused(credentials.credentials)  # audited, throttled
        raise AuthenticationError("unknown, revoked or expired portal token")
    return record


PortalCallerDep = Annotated[PortalTokenRecord, Depends(current_portal_caller)]
