"""Send Segment messages through a real Python tracking client; report what went over the wire.

Runs inside the client's own virtual environment (``tests/e2e/test_segment_clients.py`` builds one
per client), so it imports only the standard library and the client under test. Usage::

    python segment_client_driver.py --client rudder-sdk-python --host http://127.0.0.1:8000 \\
        --write-key KEY --messages messages.json [--repeat 2]

``messages.json`` holds a list of Segment-spec messages (``type``, ``userId``, ``properties``, ...).
Each one is handed to the client's own method (``client.track(user_id=..., event=...)``), so the
client stamps ``messageId`` (unless one is given), ``timestamp`` and ``context.library``, batches
the messages and posts them with its own auth and compression. A response hook on the client's
HTTP session records every request exactly as it was sent: auth scheme, gzip, body, status.
``--repeat 2`` posts every batch once more through the client's own request function, the way its
retry loop does after a lost response.

Prints one JSON object on stdout: ``{"client", "version", "requests": [...], "errors": [...],
"refused": [...]}``. The write key itself is never printed.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import importlib
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

# package name -> the client's module prefix (client, request and version modules live under it)
CLIENT_MODULES = {
    "segment-analytics-python": "segment.analytics",
    "rudder-sdk-python": "rudderstack.analytics",
    "analytics-python": "analytics",
}

# Segment wire field -> keyword argument of the client's methods
KEYWORDS = {
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "event": "event",
    "properties": "properties",
    "traits": "traits",
    "name": "name",
    "category": "category",
    "groupId": "group_id",
    "previousId": "previous_id",
    "context": "context",
    "integrations": "integrations",
    "timestamp": "timestamp",
    "messageId": "message_id",
}


def main() -> int:
    args = _parse_args()
    prefix = CLIENT_MODULES[args.client]
    client_module = importlib.import_module(f"{prefix}.client")
    request_module = importlib.import_module(f"{prefix}.request")
    version = importlib.import_module(f"{prefix}.version").VERSION
    report: dict[str, Any] = {"client": args.client, "version": version}
    report.update(requests=[], errors=[], refused=[])
    phase = ["send"]
    request_module._session.hooks["response"].append(_recorder(report, args.write_key, phase))
    client = client_module.Client(
        args.write_key,
        host=args.host,
        max_retries=args.max_retries,
        timeout=10,
        upload_interval=0.1,  # the wait for more messages before a batch goes; default 0.5 s
        on_error=lambda error, batch: report["errors"].append(_error(error, batch)),
    )
    messages = json.loads(Path(args.messages).read_text(encoding="utf-8"))
    for message in messages:
        accepted, sent = getattr(client, message["type"])(**_keywords(message))
        if not accepted:
            report["refused"].append(sent.get("messageId"))
    client.shutdown()
    phase[0] = "repeat"
    _repeat(report, request_module, args, gzip_on=client.gzip)
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    return 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", required=True, choices=sorted(CLIENT_MODULES))
    parser.add_argument("--host", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--write-key", required=True)
    parser.add_argument("--messages", required=True, help="JSON file: a list of messages")
    parser.add_argument("--repeat", type=int, default=1, help="post every batch this many times")
    parser.add_argument("--max-retries", type=int, default=3)
    return parser.parse_args()


def _keywords(message: dict[str, Any]) -> dict[str, Any]:
    """The client method's keyword arguments for one Segment-spec message."""
    keywords = {KEYWORDS[field]: value for field, value in message.items() if field in KEYWORDS}
    if "timestamp" in keywords:  # the clients take a datetime, not a string
        keywords["timestamp"] = datetime.fromisoformat(keywords["timestamp"])
    return keywords


def _recorder(report: dict[str, Any], write_key: str, phase: list[str]) -> Any:
    """A ``requests`` response hook that appends each request, as sent, to the report."""

    def record(response: Any, *args: Any, **kwargs: Any) -> None:
        request = response.request
        body = request.body.encode() if isinstance(request.body, str) else request.body
        compressed = request.headers.get("Content-Encoding") == "gzip"
        payload = json.loads(gzip.decompress(body) if compressed else body)
        key_in_body = payload.pop("writeKey", None) == write_key
        report["requests"].append(
            {
                "phase": phase[0],
                "url": request.url,
                "status": response.status_code,
                "response": response.text[:300],
                "authorization": _auth_form(request.headers.get("Authorization"), write_key),
                "gzip": compressed,
                "write_key_in_body": key_in_body,
                "user_agent": request.headers.get("User-Agent"),
                "body": payload,
            }
        )

    return record


def _auth_form(header: str | None, write_key: str) -> str:
    """How the write key travelled in the Authorization header, without showing it."""
    if not header:
        return "none"
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return scheme.lower()
    decoded = base64.b64decode(credentials).decode()
    if decoded == f"{write_key}:":
        return "basic"
    return "basic-without-colon" if decoded == write_key else "basic-other"


def _repeat(
    report: dict[str, Any], request_module: Any, args: argparse.Namespace, gzip_on: bool
) -> None:
    """Post every batch that was sent again, through the client's own ``post``."""
    batches = [r["body"]["batch"] for r in report["requests"] if r["phase"] == "send"]
    for _ in range(args.repeat - 1):
        for batch in batches:
            try:
                request_module.post(
                    args.write_key, args.host, gzip=gzip_on, timeout=10, batch=batch
                )
            except Exception as error:  # reported in the output; the test decides
                report["errors"].append(_error(error, batch))


def _error(error: Exception, batch: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "error": f"{type(error).__name__}: {error}"[:300],
        "message_ids": [m.get("messageId") for m in batch],
    }


if __name__ == "__main__":
    sys.exit(main())
