"""The HTTP API: ``create_app(settings)`` builds the FastAPI application of one workspace.

Routes are thin: they parse, call the workspace, and shape the answer. Every route except
``/health``, ``POST /v1/auth/login`` and the collector's ``/v1/track``-style routes (which use
write keys) needs an API token or a login session (``Authorization: Bearer cus_...``).

Example::

    app = create_app(load_settings(home=Path(".custodia")))
    # uvicorn.run(app)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError as PydanticValidationError

from custodia import __version__
from custodia.api.access_log import install_access_log_redaction
from custodia.api.routes import analyses as analyses_routes
from custodia.api.routes import analyses_attribution as analyses_attribution_routes
from custodia.api.routes import analyses_funnel as analyses_funnel_routes
from custodia.api.routes import analyses_paths as analyses_paths_routes
from custodia.api.routes import analyses_retention as analyses_retention_routes
from custodia.api.routes import analyses_rfm as analyses_rfm_routes
from custodia.api.routes import analyses_traits as analyses_traits_routes
from custodia.api.routes import audit as audit_routes
from custodia.api.routes import auth as auth_routes
from custodia.api.routes import catalog as catalog_routes
from custodia.api.routes import collector, dp, health, profiles, runs, sources, tables
from custodia.api.routes import consents as consent_routes
from custodia.api.routes import lineage as lineage_routes
from custodia.api.routes import portal as portal_routes
from custodia.api.routes import privacy_requests as privacy_request_routes
from custodia.api.routes import quality as quality_routes
from custodia.api.routes import quality_explain as quality_explain_routes
from custodia.api.routes import quarantine as quarantine_routes
from custodia.api.routes import retention as retention_routes
from custodia.api.routes import review as review_routes
from custodia.api.routes import unmask as unmask_routes
from custodia.api.validation_errors import validation_error
from custodia.core.errors import (
    AuthenticationError,
    CustodiaError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
    StorageError,
    TableNotFoundError,
    TooManyAttemptsError,
    ValidationError,
)
from custodia.core.process_heap import freeze_startup_heap
from custodia.settings import Settings
from custodia.workspace import Workspace

_STATUS = (
    (AuthenticationError, 401),
    (TooManyAttemptsError, 429),
    (PermissionDeniedError, 403),
    (TableNotFoundError, 404),
    (NotFoundError, 404),
    (ValidationError, 400),
    (QueryError, 400),
    (StorageError, 409),
)


def create_app(settings: Settings) -> FastAPI:
    """Build the app for the workspace in ``settings.home`` (which must exist)."""
    workspace = Workspace.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        workspace.close()

    app = collector.CollectorFirstAPI(
        title="Custodia",
        version=__version__,
        description="Open-source customer data platform API.",
        lifespan=lifespan,
    )
    app.state.workspace = workspace
    app.add_exception_handler(CustodiaError, _custodia_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(PydanticValidationError, validation_error)
    app.include_router(health.router)
    app.include_router(auth_routes.router, prefix="/v1")
    app.include_router(tables.router, prefix="/v1")
    app.include_router(runs.router, prefix="/v1")
    app.include_router(sources.router, prefix="/v1")
    collector.register(app)
    app.include_router(quarantine_routes.router, prefix="/v1")
    app.include_router(lineage_routes.router, prefix="/v1")
    app.include_router(profiles.router, prefix="/v1")
    app.include_router(audit_routes.router, prefix="/v1")
    app.include_router(quality_routes.router, prefix="/v1")
    app.include_router(quality_explain_routes.router, prefix="/v1")
    app.include_router(catalog_routes.router, prefix="/v1")
    app.include_router(consent_routes.router, prefix="/v1")
    app.include_router(review_routes.router, prefix="/v1")
    app.include_router(dp.router, prefix="/v1")
    app.include_router(unmask_routes.router, prefix="/v1")
    app.include_router(portal_routes.router, prefix="/v1")
    app.include_router(privacy_request_routes.router, prefix="/v1")
    app.include_router(retention_routes.router, prefix="/v1")
    app.include_router(analyses_routes.router, prefix="/v1")
    app.include_router(analyses_attribution_routes.router, prefix="/v1")
    app.include_router(analyses_rfm_routes.router, prefix="/v1")
    app.include_router(analyses_funnel_routes.router, prefix="/v1")
    app.include_router(analyses_paths_routes.router, prefix="/v1")
    app.include_router(analyses_retention_routes.router, prefix="/v1")
    app.include_router(analyses_traits_routes.router, prefix="/v1")
    return app


def create_server_app(settings: Settings) -> FastAPI:
    """:func:`create_app` for a server process that runs until it is stopped: what startup built
    is then kept out of the garbage collector's full collections
    (:func:`~custodia.core.process_heap.freeze_startup_heap`), which would otherwise stall every
    request in flight for about 90 ms every few seconds under load. Its access log keeps
    customers' identifiers out (:mod:`custodia.api.access_log`)."""
    install_access_log_redaction()
    app = create_app(settings)
    freeze_startup_heap()
    return app


def create_app_from_environment() -> FastAPI:
    """The app of one uvicorn worker process (``custodia serve --workers N``), configured by
    the ``CUSTODIA_*`` variables the parent process set."""
    from custodia.settings import load_settings

    return create_server_app(load_settings())


async def _custodia_error(_request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
    body = {"code": type(exc).__name__, "message": str(exc).splitlines()[0]}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooManyAttemptsError):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    return JSONResponse(body, status_code=status, headers=headers)
