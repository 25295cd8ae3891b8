"""The workspace's classification policy: raised tiers and how free-text columns are scanned.

``core.tables`` gives every column a tier (L1 general, L2 sensitive, L3 highly sensitive); that
grading is the product's floor. A workspace may raise a column (a brand whose ``orders.channel``
names a clinic raises it to L2) but never lower one: masking, encryption and erasure rely on
the floor, so a policy that lowers a tier is refused, naming the file and line.

Free-text columns (``interactions.text``, ``interactions.subject``, or any string column of a
table the mappings stage) carry personal data no schema declares. Per column the policy says
whether loads scan it (``scan``) and what they do with what is found (``action``):

- ``redact``: the staged value holds the text with each finding replaced: ``replace: mask``
  (``138****5678``) or ``replace: tag`` (``<CN_MOBILE>``), with ``entities:`` overriding that per
  entity type;
- ``flag``: the text is stored as it came; the load only counts the findings.

Not scannable: the raw zone (``source_records_raw.payload``, ``quarantine.payload``) keeps the
records exactly as they arrived, to replay them; it is L3 and is covered by encryption and
erasure instead. ``events`` are stored by the Segment path, not by mappings, and their
``properties`` are JSON keyed by tracking plans: a plan, not a scanner, keeps personal data out.

The shipped defaults (``classification.yaml`` beside this module) are overridden per entry by
``HOME/privacy/classification.yaml``: its ``tiers`` and ``free_text`` entries replace the
shipped ones of the same column, the others stay.

Example::

    policy = ClassificationFile(home).current()
    policy.tier("orders", "channel")                     # Tier.L1 unless raised
    policy.free_text_rules("interactions")               # {'text': FreeTextRule(...), ...}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from custodia.core.errors import TableNotFoundError, ValidationError
from custodia.core.tables import EVENTS, table_spec
from custodia.core.types import Home, Tier, Zone
from custodia.core.yaml_document import entry_lines, load_yaml_mapping
from custodia.privacy.pii_entities import known_entities

__all__ = [
    "CLASSIFICATION_PATH",
    "ClassificationFile",
    "ClassificationPolicy",
    "FreeTextRule",
]

CLASSIFICATION_PATH: Final = Path("privacy") / "classification.yaml"
"""The workspace's classification policy, relative to HOME."""

_SHIPPED: Final = "classification.yaml"
_TIER_RANK: Final = {Tier.L1: 1, Tier.L2: 2, Tier.L3: 3}
_SECTIONS: Final = ("tiers", "free_text")


class FreeTextRule(BaseModel):
    """How loads treat one free-text column."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scan: bool = True
    action: Literal["redact", "flag"] = "redact"
    replace: Literal["mask", "tag"] = "mask"
    entities: dict[str, Literal["mask", "tag"]] = Field(default_factory=dict)
    """Per entity type, the replacement when it differs from ``replace``."""

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, value: dict[str, str]) -> dict[str, str]:
        return known_entities(value)

    @property
    def redacts(self) -> bool:
        """Whether the stored text is changed (not only counted)."""
        return self.scan and self.action == "redact"


class ClassificationPolicy(BaseModel):
    """Raised tiers per ``table.column`` and free-text rules per ``table.column``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tiers: dict[str, Tier] = Field(default_factory=dict)
    free_text: dict[str, FreeTextRule] = Field(default_factory=dict)

    @classmethod
    def shipped(cls) -> ClassificationPolicy:
        """The defaults shipped with Custodia."""
        return cls.from_text(_shipped_text(), origin=_SHIPPED)

    @classmethod
    def from_text(
        cls, text: str, *, origin: str, base: ClassificationPolicy | None = None
    ) -> ClassificationPolicy:
        """Parse and check a policy document; its entries replace those of ``base``.

        Errors name ``origin``, the line of the entry and the rule it breaks, never a value.
        """
        document, node = load_yaml_mapping(text, origin=origin, field="classification")
        unknown = sorted(set(document) - set(_SECTIONS))
        if unknown:
            raise ValidationError(
                "classification", "sections", f"{origin}: unknown sections {unknown}; "
                f"known: {list(_SECTIONS)}",
            )  # fmt: skip
        tiers = _entries(document, node, "tiers", origin, _tier_entry)
        free_text = _entries(document, node, "free_text", origin, _free_text_entry)
        if base is not None:
            tiers, free_text = base.tiers | tiers, base.free_text | free_text
        return cls(tiers=tiers, free_text=free_text)

    def tier(self, table: str, column: str) -> Tier:
        """The column's tier: the ``core.tables`` floor, raised where the policy says so."""
        floor = table_spec(table).column(column).tier
        return self.tiers.get(f"{table}.{column}", floor)

    def free_text_rules(self, table: str) -> dict[str, FreeTextRule]:
        """The scanned free-text columns of ``table`` and their rules (by column name)."""
        prefix = f"{table}."
        return {
            name.removeprefix(prefix): rule
            for name, rule in self.free_text.items()
            if name.startswith(prefix) and rule.scan
        }


class ClassificationFile:
    """The workspace's policy, parsed again whenever ``HOME/privacy/classification.yaml`` changes.

    ``on_change(origin, text)`` is called with each version loaded or written (e.g.
    :class:`~custodia.privacy.policy_audit.PolicyChangeAudit`, which records new versions).

    Example::

        ClassificationFile(home).current().free_text_rules("interactions")
    """

    def __init__(self, home: Path, on_change: Callable[[str, str], object] | None = None) -> None:
        self.path = home / CLASSIFICATION_PATH
        self._on_change = on_change
        self._shipped = ClassificationPolicy.shipped()
        self._seen: tuple[float, int] | None = None
        self._policy = self._shipped

    def current(self) -> ClassificationPolicy:
        """The policy in force: the workspace file over the shipped defaults."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._seen, self._policy = None, self._shipped
            return self._policy
        if (stat.st_mtime, stat.st_size) != self._seen:
            text = self.path.read_text(encoding="utf-8")
            self._policy = self.check(text)
            self._seen = (stat.st_mtime, stat.st_size)
            self._changed(text)
        return self._policy

    def check(self, text: str, origin: str | None = None) -> ClassificationPolicy:
        """The policy ``text`` would put in force (over the shipped defaults), or the error."""
        where = origin or str(CLASSIFICATION_PATH)
        return ClassificationPolicy.from_text(text, origin=where, base=self._shipped)

    def replace(self, text: str, origin: str) -> ClassificationPolicy:
        """Check ``text`` and make it the workspace file; nothing is written if it is wrong."""
        policy = self.check(text, origin)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".yaml.part")
        partial.write_text(text, encoding="utf-8")
        partial.replace(self.path)
        self._changed(text)
        return policy

    def _changed(self, text: str) -> None:
        if self._on_change is not None:
            self._on_change(str(CLASSIFICATION_PATH), text)

    def write_defaults(self) -> Path:
        """Write the shipped policy to the workspace file unless one exists; returns its path."""
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(_shipped_text(), encoding="utf-8")
        return self.path


def _shipped_text() -> str:
    return resources.files("custodia.privacy").joinpath(_SHIPPED).read_text("utf-8")


def _entries(
    document: Mapping[str, Any],
    node: yaml.Node | None,
    section: str,
    origin: str,
    parse: Any,
) -> dict[str, Any]:
    """Each ``table.column`` entry of ``section`` parsed by ``parse``; errors carry its line."""
    raw = document.get(section) or {}
    if not isinstance(raw, dict):
        raise ValidationError(section, "mapping", f"{origin}: '{section}' must be a mapping")
    lines = entry_lines(node, section)
    parsed: dict[str, Any] = {}
    for name, value in raw.items():
        at = f"{origin} line {lines.get(str(name), '?')}: {section}.{name}"
        try:
            table, column = _column_of(str(name))
            parsed[str(name)] = parse(table, column, value)
        except (ValueError, KeyError, TableNotFoundError) as exc:
            raise ValidationError(section, "entry", f"{at}: {_reason(exc)}") from None
    return parsed


def _column_of(name: str) -> tuple[str, str]:
    """``table.column`` split, both checked against ``core.tables``."""
    table, dot, column = name.partition(".")
    if not dot:
        raise ValueError("name a column as table.column")
    spec = table_spec(table)
    if column not in spec.column_names:
        raise ValueError(f"table {table} has no column {column}")
    return table, column


def _tier_entry(table: str, column: str, value: object) -> Tier:
    try:
        tier = Tier(str(value))
    except ValueError:
        raise ValueError("a tier is L1, L2 or L3") from None
    floor = table_spec(table).column(column).tier
    if _TIER_RANK[tier] < _TIER_RANK[floor]:
        raise ValueError(f"cannot lower the tier below {floor.value} (core.tables); only raise it")
    return tier


def _free_text_entry(table: str, column: str, value: object) -> FreeTextRule:
    spec = table_spec(table)
    if spec.name == EVENTS.name:
        raise ValueError("events are stored by the Segment path, not by mappings; not scanned")
    if spec.zone is Zone.RAW:
        raise ValueError("the raw zone keeps records as they arrived (L3, erasable); not scanned")
    if spec.home is not Home.LAKE:
        raise ValueError("only lake tables that mappings stage are scanned")
    if not str(spec.column(column).type).endswith("string"):
        raise ValueError("only text columns can be scanned")
    return FreeTextRule.model_validate(value or {})


def _reason(exc: Exception) -> str:
    if isinstance(exc, PydanticError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return str(exc.args[0]) if exc.args else type(exc).__name__
