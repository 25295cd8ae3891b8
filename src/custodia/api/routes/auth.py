"""``/v1/auth``: console login, logout and "who am I".

``POST /v1/auth/login`` takes a username and a password and answers a session token, a bearer
token like an API token but tied to the user, carrying the user's role and expiring after
``session_minutes``. ``POST /v1/auth/logout`` revokes the session it is called with.
``GET /v1/auth/me`` describes the caller, session or API token.

A refused login is 401 with one message whatever the reason (no user enumeration); a username
with too many failures in a row is 429 with ``Retry-After`` until its lock ends
(:mod:`custodia.privacy.login`).

Example::

    curl -d '{"username": "张伟", "password": "..."}' -H 'content-type: application/json' \\
         localhost:8000/v1/auth/login
    curl -H "Authorization: Bearer $SESSION" localhost:8000/v1/auth/me
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, SecretStr

from custodia.api.deps import CallerDep, WorkspaceDep
from custodia.privacy.login import ConsoleLogin
from custodia.privacy.tokens import TokenRecord, end_session
from custodia.privacy.users import get_user
from custodia.workspace import Workspace

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=200, description="Any script, e.g. 张伟.")
    password: SecretStr = Field(min_length=1, max_length=1024)


class LoginAnswer(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'; shown once.")
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: str
    role: str
    user_id: str
    username: str


def _desk(ws: Workspace) -> ConsoleLogin:
    return ConsoleLogin(
        ws.store,
        hashing=ws.password_hashing,
        throttle_secret=ws.secret(),
        session_lifetime=timedelta(minutes=ws.settings.session_minutes),
        clock=ws.clock,
    )


@router.post("/login")
def login(body: LoginRequest, ws: WorkspaceDep, response: Response) -> LoginAnswer:
    """Log in with a username and password; the answer holds a session token.

    A plain ``def`` on purpose: the password hash takes tens of milliseconds of CPU, which runs
    in the thread pool instead of stalling every other request on the event loop.
    """
    session = _desk(ws).login(body.username, body.password.get_secret_value())
    response.headers["Cache-Control"] = "no-store"
    expires = session.record.expires_at
    return LoginAnswer(
        token=session.token,
        expires_at="" if expires is None else expires.isoformat(),
        role=session.user.role.value,
        user_id=session.user.user_id,
        username=session.user.username,
    )


@router.post("/logout", status_code=204)
def logout(ws: WorkspaceDep, caller: CallerDep) -> Response:
    """End the session this request is made with (400 for an API token: revoke those apart)."""
    end_session(ws.store, caller, clock=ws.clock)
    return Response(status_code=204)


@router.get("/me")
async def me(ws: WorkspaceDep, caller: CallerDep) -> dict[str, Any]:
    """Who the caller is: its kind (``session`` or ``api``), role and, for a session, user."""
    return _describe(ws, caller)


def _describe(ws: Workspace, caller: TokenRecord) -> dict[str, Any]:
    expires = None if caller.expires_at is None else caller.expires_at.isoformat()
    view: dict[str, Any] = {
        "kind": caller.kind,
        "token_id": caller.token_id,
        "role": caller.role.value,
        "role_label": caller.role.label,
        "expires_at": expires,
        "user": None,
    }
    if caller.user_id is not None:
        user = get_user(ws.store, caller.user_id)
        if user is not None:
            view["user"] = {"user_id": user.user_id, "username": user.username,
                            "status": user.status}  # fmt: skip
    else:
        view["name"] = caller.name
    return view
