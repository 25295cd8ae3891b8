"""Keep customers' identifiers out of the server's access log.

Profile routes name the customer in the path (``GET /v1/profiles/phone:13812345678``), and
uvicorn writes every request path to its access log, so without this a log line per lookup would
hold a raw phone, resident ID or email. The filter rewrites the value after ``ID_TYPE:`` in a
``/v1/profiles/...`` path (the type stays, for operations) before the line is formatted. Routes
added later should take identifiers in the body instead, as ``/v1/privacy/*`` and the unmask
header do.

Example::

    install_access_log_redaction()
    # 127.0.0.1:5000 - "GET /v1/profiles/phone:***/traits HTTP/1.1" 200
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_PROFILE_REF = re.compile(r"(/v1/profiles/[^/?:%\s]+(?::|%3A|%3a))[^/?\s]+")


def redact_profile_refs(path: str) -> str:
    """``/v1/profiles/phone:138.../traits?x=1`` -> ``/v1/profiles/phone:***/traits?x=1``."""
    return _PROFILE_REF.sub(r"\1***", path)


class ProfileRefRedaction(logging.Filter):
    """Rewrites the path argument of uvicorn's access records (client, method, path, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_profile_refs(args[2]), *args[3:])
        return True


def install_access_log_redaction() -> None:
    """Add the filter to uvicorn's access logger once per process (idempotent)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, ProfileRefRedaction) for f in logger.filters):
        logger.addFilter(ProfileRefRedaction())
