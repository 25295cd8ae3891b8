"""Tracking plans: what events a source may send and what their properties must look like.

A plan is a JSON document with a *common* JSON Schema (checked against every message, in Segment
field names: ``type``, ``event``, ``userId``, ``context``, ``properties``, ``traits`` ...) and one
JSON Schema per event name (checked against the event's ``properties`` object): track events by
``event`` under ``events``, and optionally pages and screens by ``name`` under ``pages`` and
``screens``. Three modes say what happens to what the plan does not expect:

- ``unplanned_events``: a track event whose name the plan does not list (and a page or screen
  when the plan has a ``pages``/``screens`` section that does not list its name);
- ``unplanned_properties``: a property the event's schema does not name in ``properties`` (or
  match with ``patternProperties``); top-level properties only;
- ``schema_violations``: a message that breaks the common schema or its event's schema.

Each mode is ``allow`` (nothing recorded), ``flag`` (the event is stored, and the violation is
kept in the ``quarantine`` table with status ``flagged``) or ``block`` (the event is not stored;
it waits in the quarantine with status ``open`` until a replay loads it). Nothing is dropped.

Reasons name the field and the schema keyword, never the value (jsonschema's own messages quote
values, so they are not used).

Example::

    plan = parse_plan({"events": {"Order Completed": {"type": "object",
                       "properties": {"revenue": {"type": "number"}}, "required": ["revenue"]}},
                       "unplanned_events": "block"})
    violations = check_event(row, plan)        # row: an ``events`` row (normalize_message)
    blocked = any(v.action is PlanMode.BLOCK for v in violations)

Violations become quarantine entries through :mod:`custodia.collect.plan_quarantine`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from custodia.core.errors import ValidationError

if TYPE_CHECKING:  # jsonschema is imported when a plan is compiled, not with the CLI
    from jsonschema import ValidationError as SchemaError
    from jsonschema.protocols import Validator

__all__ = [
    "RULE_SCHEMA",
    "RULE_UNPLANNED_EVENT",
    "RULE_UNPLANNED_PROPERTY",
    "PlanMode",
    "TrackingPlan",
    "TrackingPlanSpec",
    "Violation",
    "check_event",
    "is_blocked",
    "load_plan_file",
    "message_document",
    "parse_plan",
]

RULE_SCHEMA = "plan_schema"
RULE_UNPLANNED_EVENT = "plan_unplanned_event"
RULE_UNPLANNED_PROPERTY = "plan_unplanned_property"
_MAX_LISTED = 10

# Segment field name -> ``events`` column; JSON columns are parsed back into objects.
_MESSAGE_FIELDS = (
    ("type", "type"),
    ("event", "event"),
    ("name", "name"),
    ("userId", "user_id"),
    ("anonymousId", "anonymous_id"),
    ("previousId", "previous_id"),
    ("groupId", "group_id"),
    ("messageId", "message_id"),
)
_JSON_FIELDS = (
    ("properties", "properties"),
    ("traits", "traits"),
    ("context", "context"),
    ("integrations", "integrations"),
)
_TIME_FIELDS = (("timestamp", "timestamp"), ("sentAt", "sent_at"), ("receivedAt", "received_at"))


class PlanMode(StrEnum):
    """What happens to an event the plan does not expect."""

    ALLOW = "allow"
    FLAG = "flag"
    BLOCK = "block"


JsonSchema = dict[str, Any]


class TrackingPlanSpec(BaseModel):
    """The tracking plan document (JSON) as a user writes it."""

    description: str | None = Field(default=None, description="What the plan is for.")
    common: JsonSchema | None = Field(
        default=None, description="JSON Schema every message must satisfy (Segment field names)."
    )
    events: dict[str, JsonSchema] = Field(
        default_factory=dict, description="Track event name -> JSON Schema of its properties."
    )
    pages: dict[str, JsonSchema] | None = Field(
        default=None, description="Page name -> JSON Schema of its properties (optional)."
    )
    screens: dict[str, JsonSchema] | None = Field(
        default=None, description="Screen name -> JSON Schema of its properties (optional)."
    )
    unplanned_events: PlanMode = Field(default=PlanMode.ALLOW)
    unplanned_properties: PlanMode = Field(default=PlanMode.ALLOW)
    schema_violations: PlanMode = Field(default=PlanMode.BLOCK)

    model_config = {"extra": "forbid"}


@dataclass(frozen=True)
class Violation:
    """One way a message breaks its plan: the rule, the field, a value-free reason, the action."""

    rule: str
    field: str
    reason: str
    action: PlanMode


@dataclass(frozen=True)
class _EventSchema:
    validator: Validator
    planned: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    def is_planned(self, name: str) -> bool:
        return name in self.planned or any(p.search(name) for p in self.patterns)


@dataclass(frozen=True)
class TrackingPlan:
    """A validated plan with its schemas compiled once; build it with :func:`parse_plan`."""

    spec: TrackingPlanSpec
    common: Validator | None
    sections: dict[str, dict[str, _EventSchema]] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The plan as JSON (what ``plan show`` prints and the store keeps)."""
        return self.spec.model_dump(mode="json", exclude_none=True)


def parse_plan(document: object) -> TrackingPlan:
    """Validate a plan document and compile its schemas.

    Raises :class:`ValidationError` naming the part of the plan that is wrong.
    """
    try:
        spec = TrackingPlanSpec.model_validate(document)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "plan"
        raise ValidationError(
            where, "tracking_plan", f"tracking plan: {where}: {first['msg']}"
        ) from None
    sections = {"track": _compile_section("events", spec.events)}
    if spec.pages is not None:
        sections["page"] = _compile_section("pages", spec.pages)
    if spec.screens is not None:
        sections["screen"] = _compile_section("screens", spec.screens)
    common = None if spec.common is None else _compile("common", spec.common)
    return TrackingPlan(spec=spec, common=common, sections=sections)


def load_plan_file(path: Path) -> TrackingPlan:
    """Read and parse a plan from a JSON file; errors name the file, never its values."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(
            "tracking_plan", "readable", f"tracking plan {path.name}: {exc.strerror}"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationError(
            "tracking_plan", "json", f"tracking plan {path.name}: not valid UTF-8 JSON"
        ) from None
    return parse_plan(document)


def _compile_section(section: str, schemas: Mapping[str, JsonSchema]) -> dict[str, _EventSchema]:
    compiled = {}
    for name, schema in schemas.items():
        declared = schema.get("properties")
        patterns = schema.get("patternProperties")
        compiled[name] = _EventSchema(
            validator=_compile(f"{section}.{name}", schema),
            planned=frozenset(declared) if isinstance(declared, Mapping) else frozenset(),
            patterns=tuple(re.compile(p) for p in patterns)
            if isinstance(patterns, Mapping)
            else (),
        )
    return compiled


def _compile(where: str, schema: JsonSchema) -> Validator:
    from jsonschema import FormatChecker
    from jsonschema.exceptions import SchemaError as BadSchemaError
    from jsonschema.validators import validator_for

    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except BadSchemaError as exc:
        keyword = str(exc.validator) if exc.validator else "schema"
        raise ValidationError(
            where, "json_schema", f"tracking plan: {where} is not a valid JSON Schema ({keyword})"
        ) from None
    validator: Validator = cls(schema, format_checker=FormatChecker())
    return validator


# -- checking ------------------------------------------------------------------------------------


def check_event(row: Mapping[str, Any], plan: TrackingPlan) -> list[Violation]:
    """Every violation of ``plan`` by one ``events`` row (as :func:`normalize_message` returns
    it); violations whose mode is ``allow`` are not returned.

    Example::

        [v.rule for v in check_event(row, plan)]   # ['plan_unplanned_event']
    """
    found: list[Violation] = []
    spec = plan.spec
    if plan.common is not None and spec.schema_violations is not PlanMode.ALLOW:
        errors = plan.common.iter_errors(message_document(row))
        found += _schema_violations(errors, "", spec.schema_violations)
    section = plan.sections.get(str(row.get("type")))
    if section is None:
        return found
    name = row.get("event") if row.get("type") == "track" else row.get("name")
    schema = section.get(name) if isinstance(name, str) else None
    if schema is None:
        return found + _unplanned_event(row, spec.unplanned_events)
    properties = _json_object(row.get("properties"))
    if spec.schema_violations is not PlanMode.ALLOW:
        errors = schema.validator.iter_errors(properties)
        found += _schema_violations(errors, "properties", spec.schema_violations)
    if spec.unplanned_properties is not PlanMode.ALLOW:
        found += _unplanned_properties(properties, schema, spec.unplanned_properties)
    return found


def is_blocked(violations: Iterable[Violation]) -> bool:
    """Whether any violation keeps the event out of ``events``."""
    return any(v.action is PlanMode.BLOCK for v in violations)


def message_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """An ``events`` row as a Segment message (camelCase names, JSON fields as objects)."""
    doc: dict[str, Any] = {}
    for name, column in _MESSAGE_FIELDS:
        if row.get(column) is not None:
            doc[name] = row[column]
    for name, column in _JSON_FIELDS:
        if row.get(column) is not None:
            doc[name] = _json_object(row[column])
    for name, column in _TIME_FIELDS:
        value = row.get(column)
        if isinstance(value, datetime):
            doc[name] = value.isoformat().replace("+00:00", "Z")
    return doc


def _json_object(value: object) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        parsed = json.loads(value)
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _unplanned_event(row: Mapping[str, Any], mode: PlanMode) -> list[Violation]:
    if mode is PlanMode.ALLOW:
        return []
    kind = str(row.get("type"))
    name_field = "event" if kind == "track" else "name"
    reason = f"{name_field}: this {kind} is not in the tracking plan"
    return [Violation(RULE_UNPLANNED_EVENT, name_field, reason, mode)]


def _unplanned_properties(
    properties: Mapping[str, Any], schema: _EventSchema, mode: PlanMode
) -> list[Violation]:
    return [
        Violation(
            RULE_UNPLANNED_PROPERTY,
            f"properties.{name}",
            f"properties.{name}: not in the tracking plan for this event",
            mode,
        )
        for name in properties
        if not schema.is_planned(name)
    ]


def _schema_violations(
    errors: Iterable[SchemaError], prefix: str, mode: PlanMode
) -> list[Violation]:
    found = []
    for error in errors:
        path = _path(prefix, error.absolute_path)
        if error.validator == "required":
            missing = _missing(error)
            path = _path(path, [missing[0]]) if missing else path
        found.append(Violation(RULE_SCHEMA, path or "message", _describe(error, path), mode))
    return found


def _path(prefix: str, parts: Iterable[object]) -> str:
    text = prefix
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else str(part)
    return text


def _missing(error: SchemaError) -> list[str]:
    wanted = error.validator_value if isinstance(error.validator_value, list) else []
    present = error.instance if isinstance(error.instance, Mapping) else {}
    return [str(name) for name in wanted if name not in present]


def _describe(error: SchemaError, path: str) -> str:
    """A reason built from the schema (expected type, bound, pattern), never from the value."""
    keyword, expected = str(error.validator), error.validator_value
    where = path or "message"
    if keyword == "required":
        return f"{where}: is required by the tracking plan"
    if keyword == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = sorted(str(k) for k in error.instance if k not in allowed)
        return f"{where}: properties not allowed by the plan: {_listed(extra)}"
    templates = {
        "type": "must be of type {}",
        "enum": "must be one of the values the plan lists",
        "const": "must equal the value the plan sets",
        "minimum": "must be >= {}",
        "maximum": "must be <= {}",
        "exclusiveMinimum": "must be > {}",
        "exclusiveMaximum": "must be < {}",
        "multipleOf": "must be a multiple of {}",
        "minLength": "must have at least {} characters",
        "maxLength": "must have at most {} characters",
        "pattern": "must match the pattern {}",
        "format": "must be a valid {}",
        "minItems": "must have at least {} items",
        "maxItems": "must have at most {} items",
        "uniqueItems": "must not repeat items",
        "minProperties": "must have at least {} properties",
        "maxProperties": "must have at most {} properties",
    }
    template = templates.get(keyword, "violates '{keyword}' of the tracking plan")
    return f"{where}: " + template.format(_expected(expected), keyword=keyword)


def _expected(value: object) -> str:
    if isinstance(value, list):
        return " or ".join(str(v) for v in value[:_MAX_LISTED])
    return str(value)


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" (+{len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else "")
