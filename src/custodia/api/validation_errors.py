"""422 answers that name the field and the rule, never the value that failed.

FastAPI's default answer to a request that fails validation echoes each offending ``input``
back, so a phone, resident ID or email sent in the wrong place (a profile reference that is too
long, a phone typed into an integer field) came back in the error body and into whatever logs
responses. This handler keeps the rest of the shape (``detail``: ``type``, ``loc``, ``msg``) and
drops ``input`` and ``ctx`` (which can quote the value too, e.g. an ``expected`` pattern is fine
but a ``given`` one is not).

Example::

    app.add_exception_handler(RequestValidationError, validation_error)
    # {"detail": [{"type": "int_parsing", "loc": ["query", "limit"], "msg": "Input should be ..."}]}
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError as PydanticValidationError

_KEPT = ("type", "loc", "msg")


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """The 422 of a request that failed validation, without the values it carried.

    Also answers a pydantic ``ValidationError`` raised by a route while it turns the request
    into its parameters (a model checked again, or one built from several fields): the input
    was at fault, so it is a 422 like the others, not a 500."""
    assert isinstance(exc, RequestValidationError | PydanticValidationError)
    return JSONResponse({"detail": [_without_values(e) for e in exc.errors()]}, status_code=422)


def _without_values(error: Any) -> dict[str, Any]:
    return {key: error[key] for key in _KEPT if key in error}
