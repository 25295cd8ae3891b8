"""The collector's routes described in OpenAPI 3.1, for the app's ``/openapi.json``.

The collector routes are answered by ASGI middleware before FastAPI's routing (that is what lets
a process take tens of thousands of events per second), so FastAPI does not know them. This
module describes them as plain OpenAPI documents: paths, request bodies (JSON Schema 2020-12),
the write-key security schemes and every status the collector answers. It is documentation only;
requests are validated by :mod:`custodia.collect.segment_wire`, never against these schemas.
The limits and rules come from the same constants the collector enforces.

Example::

    schema = app.openapi()
    add_collector_paths(schema, prefix="/v1")
    schema["paths"]["/v1/track"]["post"]["requestBody"]
"""

from __future__ import annotations

from typing import Any, Final

from custodia.collect.segment import MAX_MESSAGE_ID_LENGTH, TOP_LEVEL_KEY
from custodia.collect.segment_wire import MAX_BATCH_EVENTS, MAX_REQUEST_BYTES
from custodia.collect.wire_check import MAX_EVENT_BYTES

__all__ = ["SECURITY_SCHEMES", "add_collector_paths", "collector_paths"]

Json = dict[str, Any]
_REF: Final = "#/components/schemas/"
_TAG: Final = "collector"
SECURITY_SCHEMES: Final[Json] = {
    "SegmentWriteKeyBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "A source's write key as the user name, empty password (`KEY:`; the "
        "trailing colon may be left out). Alternatively send `writeKey` in the JSON body.",
    },
    "SegmentWriteKeyBearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A source's write key as a Bearer token (a body `writeKey` wins).",
    },
}
_SECURITY: Final[list[dict[str, list[str]]]] = [
    {"SegmentWriteKeyBasic": []},
    {"SegmentWriteKeyBearer": []},
    {},  # or the write key in the body
]

_ID: Final[Json] = {"type": ["string", "number"], "description": "Numbers are stored as text."}
_TIME: Final[Json] = {"type": "string", "format": "date-time"}
_OBJECT: Final[Json] = {"type": "object", "additionalProperties": True}


def _common() -> Json:
    return {
        "userId": {**_ID, "description": "The user's id; this or anonymousId is required."},
        "anonymousId": {**_ID, "description": "A device or cookie id."},
        "messageId": {
            **_ID,
            "maxLength": MAX_MESSAGE_ID_LENGTH,
            "description": "Makes the message stored once however often it is retried, with "
            "no time window. Generated when absent.",
        },
        "timestamp": {**_TIME, "description": "When it happened (the client's clock)."},
        "originalTimestamp": {**_TIME, "description": "Preferred over timestamp when both."},
        "sentAt": {
            **_TIME,
            "description": "When the client sent it: "
            "timestamp = receivedAt - (sentAt - originalTimestamp).",
        },
        "context": {**_OBJECT, "description": "Library, device, ip, page, locale, ..."},
        "integrations": {**_OBJECT, "description": "Destinations enabled or disabled."},
        "category": {
            "description": f"Page/screen category; kept in `context.{TOP_LEVEL_KEY}.category`."
        },
        "channel": {
            "description": f"RudderStack's channel; kept in `context.{TOP_LEVEL_KEY}.channel`."
        },
        "writeKey": {"type": "string", "description": "The source's write key (or use auth)."},
    }


_WHO: Final = [{"required": ["userId"]}, {"required": ["anonymousId"]}]
_MESSAGES: Final[dict[str, Json]] = {
    "track": {
        "fields": {"event": {"type": "string", "minLength": 1}, "properties": _OBJECT},
        "required": ["event"],
        "summary": "Record an action a user took",
    },
    "identify": {
        "fields": {
            "traits": {
                **_OBJECT,
                "description": "Who the user is. `context.traits` (RudderStack) are promoted "
                "to traits; these win key by key.",
            }
        },
        "required": [],
        "summary": "Say who a user is",
    },
    "page": {
        "fields": {"name": {"type": "string"}, "properties": _OBJECT},
        "required": [],
        "summary": "Record a page view",
    },
    "screen": {
        "fields": {"name": {"type": "string"}, "properties": _OBJECT},
        "required": [],
        "summary": "Record an app screen view",
    },
    "group": {
        "fields": {"groupId": _ID, "traits": _OBJECT},
        "required": ["groupId"],
        "summary": "Associate a user with a group or account",
    },
    "alias": {
        "fields": {"previousId": _ID},
        "required": ["userId", "previousId"],
        "summary": "Merge two user identities",
    },
}


def _name(kind: str) -> str:
    return f"Segment{kind.capitalize()}Message"


def _message_schema(kind: str, spec: Json) -> Json:
    schema: Json = {
        "title": _name(kind),
        "type": "object",
        "description": f"One {kind} message (at most {MAX_EVENT_BYTES:,} bytes of JSON). On "
        f"/v1/{kind} the route decides the type.",
        "properties": {
            "type": {"type": "string", "enum": [kind]},
            **_common(),
            **spec["fields"],
        },
        "additionalProperties": True,
    }
    if spec["required"]:
        schema["required"] = list(spec["required"])
    if kind != "alias":
        schema["anyOf"] = _WHO
    return schema


def _batch_schema() -> Json:
    items = {"oneOf": [{"$ref": f"{_REF}{_name(kind)}"} for kind in _MESSAGES]}
    return {
        "title": "SegmentBatch",
        "type": "object",
        "required": ["batch"],
        "description": "Messages of any type, each with its `type`. Batch-level context and "
        "integrations are merged into each message (the message's keys win); the batch sentAt "
        "applies to messages without their own. An invalid message is quarantined and the rest "
        "stored.",
        "properties": {
            "batch": {"type": "array", "maxItems": MAX_BATCH_EVENTS, "items": items},
            "context": _OBJECT,
            "integrations": _OBJECT,
            "sentAt": _TIME,
            "writeKey": {"type": "string"},
        },
    }


def _schemas() -> Json:
    schemas = {_name(kind): _message_schema(kind, spec) for kind, spec in _MESSAGES.items()}
    schemas["SegmentBatch"] = _batch_schema()
    schemas["CollectorAccepted"] = {
        "title": "CollectorAccepted",
        "type": "object",
        "required": ["success", "received", "accepted", "quarantined"],
        "properties": {
            "success": {"type": "boolean", "const": True},
            "received": {"type": "integer", "description": "Messages in the request."},
            "accepted": {"type": "integer", "description": "Valid messages, durable in the log."},
            "quarantined": {
                "type": "integer",
                "description": "Kept in the quarantine (spec or at_entry rule violations).",
            },
            "rejected": {
                "type": "integer",
                "description": "Of the quarantined: messages that broke an at_entry reject rule.",
            },
            "flagged": {
                "type": "integer",
                "description": "Stored, with a flagged quarantine entry (at_entry flag rules).",
            },
        },
    }
    schemas["CollectorError"] = {
        "title": "CollectorError",
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "examples": ["validation_error"]},
            "message": {
                "type": "string",
                "description": "Names the field and the rule, never the value.",
                "examples": ["event: is required for track"],
            },
        },
    }
    return schemas


def _error(description: str, headers: Json | None = None) -> Json:
    response: Json = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"{_REF}CollectorError"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _responses() -> Json:
    seconds = {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}
    return {
        "200": {
            "description": "Durable in the event log (invalid batch items are quarantined).",
            "content": {"application/json": {"schema": {"$ref": f"{_REF}CollectorAccepted"}}},
        },
        "400": _error("Not JSON, not UTF-8, or a message missing a required field."),
        "401": _error(
            "Missing, unknown or disabled write key.",
            {"WWW-Authenticate": {"schema": {"type": "string"}}},
        ),
        "413": _error(
            f"Body over {MAX_REQUEST_BYTES:,} bytes (compressed or not), a message over "
            f"{MAX_EVENT_BYTES:,} bytes, or more than {MAX_BATCH_EVENTS:,} messages."
        ),
        "415": _error("A Content-Encoding other than gzip, deflate or identity."),
        "429": _error("The source's rate limit is exceeded.", {"Retry-After": seconds}),
        "503": _error(
            "The event log cannot be written; nothing was acknowledged.", {"Retry-After": seconds}
        ),
    }


def _operation(kind: str, schema: str, summary: str) -> Json:
    return {
        "post": {
            "tags": [_TAG],
            "summary": summary,
            "description": "Segment HTTP tracking API. Answered by the collector itself, not by "
            "the request validation of the rest of the API. See docs/collect-http.md.",
            "operationId": f"collect_{kind}",
            "parameters": [
                {
                    "name": "Content-Encoding",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "enum": ["gzip", "deflate", "identity"]},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"{_REF}{schema}"}}},
            },
            "responses": _responses(),
            "security": _SECURITY,
        }
    }


def collector_paths(prefix: str = "/v1") -> Json:
    """Every collector route as an OpenAPI path item."""
    paths = {
        f"{prefix}/{kind}": _operation(kind, _name(kind), spec["summary"])
        for kind, spec in _MESSAGES.items()
    }
    paths[f"{prefix}/batch"] = _operation("batch", "SegmentBatch", "Send many messages at once")
    paths[f"{prefix}/import"] = _operation(
        "import", "SegmentBatch", "Send many messages at once (historical imports)"
    )
    return paths


def add_collector_paths(schema: Json, prefix: str = "/v1") -> Json:
    """Add the collector's paths, schemas and security schemes to an OpenAPI document."""
    schema.setdefault("paths", {}).update(collector_paths(prefix))
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(_schemas())
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    tags = schema.setdefault("tags", [])
    if not any(tag.get("name") == _TAG for tag in tags):
        tags.append({"name": _TAG, "description": "Segment-compatible event collection."})
    return schema
