"""Role-based masking: which columns a role sees in clear, masked, or not at all.

The decision is made from the column's classification tier in :mod:`custodia.core.tables`, then
overridden per column *kind* (phone, resident_id, ...) and per ``table.column``. The kind also
picks the mask format from :mod:`custodia.core.masking`: phone ``138****5678``, resident ID
``110105********002X``, name ``*三``, email ``z***@example.com``, dates kept to the year.

The shipped policy (``masking_policy.yaml`` beside this module) is overridden by the workspace's
``HOME/privacy/policy.yaml`` (sections ``masking:`` and ``unmask:``; other sections of that file
belong to other privacy controls and are ignored here). Masking happens on the server, before a
value leaves it: a :class:`Masker` is one role's view, optionally with fields an approved unmask
request reveals.

Example::

    policy = PolicyFile(home).current()
    masker = policy.masker(Role.SERVICE_AGENT)
    masker.row(table_spec("profiles"), {"profile_id": "p1", "phone": "+8613812345678"})
    # {'profile_id': 'p1', 'phone': '138****5678'}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic import ValidationError as PydanticError

from custodia.core.errors import PermissionDeniedError, ValidationError
from custodia.core.masking import mask_identifier
from custodia.core.tables import TableSpec, table_spec
from custodia.core.types import Tier
from custodia.core.yaml_document import load_yaml_mapping
from custodia.privacy.roles import Role

if TYPE_CHECKING:
    from custodia.privacy.pii_detect import PiiDetector

__all__ = [
    "FULL_MASK",
    "Action",
    "Masker",
    "MaskingPolicy",
    "PolicyFile",
    "UnmaskRules",
    "column_kind",
    "identifier_tier",
    "mask_value",
]

FULL_MASK: Final = "****"
"""What a masked value shows when nothing of it may be kept (JSON documents, amounts)."""

POLICY_PATH: Final = Path("privacy") / "policy.yaml"
"""The workspace policy file, relative to HOME."""


class Action(StrEnum):
    """What a role gets for a column: the value, its mask, or no key at all."""

    CLEAR = "clear"
    MASK = "mask"
    ABSENT = "absent"


_BUILTIN_KINDS: Final[Mapping[str, str]] = {
    "phone": "phone",
    "ship_to_phone": "phone",
    "recipient_phone": "phone",
    "email": "email",
    "resident_id": "resident_id",
    "bank_card": "bank_card",
    "name": "name",
    "ship_to_name": "name",
    "birthday": "date",
    "address": "address",
    "ship_to_address": "address",
    "total_amount": "amount",
    "line_amount": "amount",
    "text": "text",
    "subject": "text",
    "payload": "json",
    "properties": "json",
    "context": "json",
    "traits": "json",
    "evidence": "json",
}

_IDENTIFIER_TIERS: Final[Mapping[str, Tier]] = {
    "resident_id": Tier.L3,
    "phone": Tier.L2,
    "email": Tier.L2,
    "member_id": Tier.L2,
    "user_id": Tier.L2,
    "anonymous_id": Tier.L2,
}


def column_kind(column: str, extra: Mapping[str, str] | None = None) -> str:
    """The kind of a column by name (``extra`` first); ``identifier`` when nothing says more."""
    if extra and column in extra:
        return extra[column]
    return _BUILTIN_KINDS.get(column, "identifier")


def identifier_tier(id_type: str) -> Tier:
    """The tier of an identifier type (``resident_id`` is L3; unknown types count as L3)."""
    return _IDENTIFIER_TIERS.get(id_type, Tier.L3)


def mask_value(kind: str, value: Any) -> Any:
    """The display mask of ``value`` for a column of ``kind``; ``None`` stays ``None``.

    >>> mask_value("date", "1980-01-01")
    '1980'
    >>> mask_value("name", "张三")
    '*三'
    >>> mask_value("text", "回电13812345678")
    '回电138****5678'
    """
    if value is None:
        return None
    if kind == "date":
        return str(value.year) if isinstance(value, date | datetime) else str(value)[:4]
    if kind == "address":
        text = str(value)
        return text[:6] + FULL_MASK if len(text) > 6 else FULL_MASK
    if kind == "text":
        return redact_free_text(str(value))
    if kind in ("amount", "json"):
        return FULL_MASK
    return mask_identifier(kind, str(value))


def redact_free_text(text: str) -> str:
    """Free text with the personal data the detector finds masked in place (``手机138****5678``):
    phones, resident IDs, emails, bank cards. Names are not found (no language model runs), so
    a policy that must hide them sets the column ``absent``."""
    from custodia.privacy.pii_redact import RedactionPolicy, redact_text

    findings = _free_text_detector().find(text)
    if not findings:
        return text
    return redact_text(text, findings, RedactionPolicy(default="mask")).text


@cache
def _free_text_detector() -> PiiDetector:
    """Built on first use and kept for the process. Presidio is imported here, not at module
    import, because every workspace command imports this module (half a second saved)."""
    from custodia.privacy.pii_detect import PiiDetector

    return PiiDetector()


class RolePolicy(BaseModel):
    """One role: an action per tier, then overrides per kind and per ``table.column``."""

    model_config = ConfigDict(extra="forbid")

    tiers: dict[Tier, Action]
    kinds: dict[str, Action] = Field(default_factory=dict)
    columns: dict[str, Action] = Field(default_factory=dict)
    derived_query_columns_in_clear: bool = False
    """Ad-hoc SQL may return values computed from personal columns (audited); otherwise such
    result columns are refused (:mod:`custodia.privacy.query_disclosure`)."""

    def action(self, table: str, column: str, tier: Tier, kind: str) -> Action:
        """Most specific rule wins: ``table.column``, then kind, then tier (absent if unset)."""
        if f"{table}.{column}" in self.columns:
            return self.columns[f"{table}.{column}"]
        if kind in self.kinds:
            return self.kinds[kind]
        return self.tiers.get(tier, Action.ABSENT)


class UnmaskRules(BaseModel):
    """Who may ask to unmask, who approves, how many approvals per tier, the longest grant."""

    model_config = ConfigDict(extra="forbid")

    requesters: list[Role]
    approvers: list[Role]
    approvals: dict[Tier, int]
    max_hours: float = Field(gt=0, le=24 * 30)

    def approvals_needed(self, tier: Tier) -> int:
        """Distinct approvals a request of ``tier`` needs (at least one)."""
        return max(1, self.approvals.get(tier, 1))


class MaskingSection(BaseModel):
    """The ``masking:`` section of a policy file."""

    model_config = ConfigDict(extra="forbid")

    kinds: dict[str, str] = Field(default_factory=dict)
    roles: dict[Role, RolePolicy]


class MaskingPolicy(BaseModel):
    """A whole masking policy: the ``masking:`` and ``unmask:`` sections."""

    model_config = ConfigDict(extra="ignore")

    masking: MaskingSection
    unmask: UnmaskRules
    _tier_of: Callable[[str, str], Tier] | None = PrivateAttr(default=None)

    def with_tiers(self, tier_of: Callable[[str, str], Tier]) -> MaskingPolicy:
        """The same policy judging columns by the workspace's tiers (a classification policy
        that raises some above ``core.tables``) in every masker it makes."""
        copy = self.model_copy()
        copy._tier_of = tier_of
        return copy

    @classmethod
    def shipped(cls) -> MaskingPolicy:
        """The defaults shipped with Custodia."""
        text = (
            resources.files("custodia.privacy").joinpath("masking_policy.yaml").read_text("utf-8")
        )
        return cls.from_text(text, origin="masking_policy.yaml")

    @classmethod
    def from_text(
        cls, text: str, *, origin: str, base: MaskingPolicy | None = None
    ) -> MaskingPolicy:
        """Parse a policy document; sections it leaves out come from ``base``."""
        document, _node = load_yaml_mapping(text, origin=origin, field="policy")
        if base is not None:
            defaults = base.model_dump(mode="json")
            document = {key: document.get(key, defaults[key]) for key in ("masking", "unmask")}
        try:
            return cls.model_validate(document)
        except PydanticError as exc:
            where = ".".join(str(part) for part in exc.errors()[0]["loc"])
            raise ValidationError(
                "policy", "schema", f"{origin}: invalid entry at {where}"
            ) from None

    def role(self, role: Role) -> RolePolicy:
        """The role's rules; roles the policy does not list read no personal data views."""
        found = self.masking.roles.get(role)
        if found is None:
            raise PermissionDeniedError(f"role '{role}' has no masking policy: no access")
        return found

    def masker(
        self,
        role: Role,
        reveal: Iterable[str] = (),
        *,
        tier_of: Callable[[str, str], Tier] | None = None,
    ) -> Masker:
        """One role's view; ``reveal`` names fields an approved unmask request shows in clear;
        ``tier_of(table, column)`` gives the workspace's tiers where they differ from
        ``core.tables`` (a classification policy that raises some)."""
        tiers = tier_of or self._tier_of
        return Masker(self.role(role), self.masking.kinds, frozenset(reveal), tier_of=tiers)


@dataclass
class Masker:
    """Applies one role's rules to rows, traits and identifiers; remembers what it revealed."""

    rules: RolePolicy
    kinds: Mapping[str, str]
    reveal: frozenset[str] = frozenset()
    revealed: set[str] = field(default_factory=set)
    tier_of: Callable[[str, str], Tier] | None = None

    def tier(self, table: str, column: str) -> Tier:
        """The column's tier (``tier_of`` first); a name that is not a column of the canonical
        table counts as L3 (a query may have computed it from anything)."""
        spec = table_spec(table)
        if column not in spec.column_names:
            return Tier.L3
        return self.tier_of(table, column) if self.tier_of else spec.column(column).tier

    def action(self, table: str, column: str, tier: Tier | None = None) -> Action:
        """The role's action for ``table.column`` (``tier`` defaults to :meth:`tier`)."""
        tier = self.tier(table, column) if tier is None else tier
        return self.rules.action(table, column, tier, column_kind(column, self.kinds))

    def in_clear(self, table: str, column: str) -> bool:
        """Whether the role sees ``table.column`` in clear (revealed fields included)."""
        return self.action(table, column) is Action.CLEAR or column in self.reveal

    def shown(
        self, table: str, column: str, value: Any, tier: Tier | None = None
    ) -> tuple[bool, Any]:
        """(keep the key?, value to show) for one cell of ``table.column``."""
        action = self.action(table, column, tier)
        if action is not Action.CLEAR and column in self.reveal and value is not None:
            self.revealed.add(column)
            return True, value
        if action is Action.CLEAR:
            return True, value
        if action is Action.ABSENT:
            return False, None
        return True, mask_value(column_kind(column, self.kinds), value)

    def row(self, spec: TableSpec, row: Mapping[str, Any]) -> dict[str, Any]:
        """A row of ``spec`` as the role may see it; keys that are not columns of ``spec`` count
        as highly sensitive."""
        out: dict[str, Any] = {}
        for name, value in row.items():
            keep, shown = self.shown(spec.name, name, value)
            if keep:
                out[name] = shown
        return out

    def rows(self, table: str, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """:meth:`row` for every row of the canonical table named ``table``."""
        spec = table_spec(table)
        return [self.row(spec, row) for row in rows]

    def identifier(self, id_type: str, value: Any) -> tuple[bool, Any]:
        """(keep?, shown value) of an identifier of ``id_type`` (kind and field are the type)."""
        return self.shown("profile_identifiers", id_type, value, identifier_tier(id_type))


class PolicyFile:
    """The workspace's policy, read again whenever ``HOME/privacy/policy.yaml`` changes.

    ``on_change(origin, text)`` is called with each version loaded (e.g.
    :class:`~custodia.privacy.policy_audit.PolicyChangeAudit`, which records new versions).

    Example::

        policies = PolicyFile(home)
        policies.current().masker(Role.ANALYST)
    """

    def __init__(self, home: Path, on_change: Callable[[str, str], object] | None = None) -> None:
        self.path = home / POLICY_PATH
        self._on_change = on_change
        self._shipped = MaskingPolicy.shipped()
        self._seen: tuple[float, int] | None = None
        self._policy = self._shipped

    def current(self) -> MaskingPolicy:
        """The policy in force: the workspace file over the shipped defaults."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._seen, self._policy = None, self._shipped
            return self._policy
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._seen:
            text = self.path.read_text(encoding="utf-8")
            origin = str(POLICY_PATH)
            self._policy = MaskingPolicy.from_text(text, origin=origin, base=self._shipped)
            self._seen = stamp
            if self._on_change is not None:
                self._on_change(origin, text)
        return self._policy

    def write_defaults(self) -> Path:
        """Write the shipped policy to the workspace file unless one exists; returns its path."""
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = resources.files("custodia.privacy").joinpath("masking_policy.yaml")
            self.path.write_text(text.read_text("utf-8"), encoding="utf-8")
        return self.path
