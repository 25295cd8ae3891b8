"""The identity resolution spec: which identifiers match, how strongly, and what may never merge.

A workspace keeps its spec as YAML (``identity/spec.yaml``); a run reads it, and the run record
stores its digest, so any profile can be traced to the rules that built it. Unknown identifier
types, impossible limits and survivorship rules for attributes that do not exist are refused with
an error naming the field.

Example::

    spec = IdentitySpec.model_validate(yaml.safe_load(text))
    spec.identifiers["phone"].max_per_profile   # 5
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from custodia.identity.probabilistic_spec import ProbabilisticSpec

__all__ = [
    "ID_TYPES",
    "SURVIVING_ATTRIBUTES",
    "IdentifierRule",
    "IdentitySpec",
    "SurvivorshipRule",
]

ID_TYPES = ("resident_id", "member_id", "user_id", "phone", "email", "anonymous_id")
"""Identifier types the resolver knows; each comes from the column of the same name."""

SURVIVING_ATTRIBUTES = (
    "name",
    "gender",
    "birthday",
    "resident_id",
    "phone",
    "email",
    "member_level",
    "province",
    "city",
    "occupation",
    "industry",
    "credit_band",
)
"""Golden-record attributes (columns of ``profiles`` filled from ``customer_records``)."""

Strategy = Literal["source_priority", "most_recent", "most_frequent", "first_non_empty"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentifierRule(_Strict):
    """How one identifier type takes part in matching."""

    priority: int = Field(
        ge=1, le=100, description="1 is the strongest; edges are applied in order"
    )
    max_per_profile: int | None = Field(
        default=None,
        description="At most this many distinct values per profile; a merge beyond it is refused",
    )
    never_merge_different: bool = Field(
        default=False,
        description="Two profiles holding different values of this type are never merged",
    )
    match: bool = Field(default=True, description="Records sharing a value are linked")

    @field_validator("max_per_profile")
    @classmethod
    def _limit_possible(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("max_per_profile must be at least 1 (or absent for no limit)")
        return value


class SurvivorshipRule(_Strict):
    """Which value of an attribute wins when the merged records disagree."""

    strategy: Strategy = Field(description="How the winning value is chosen")
    then: Strategy | None = Field(default=None, description="Tie-breaker strategy")


def _default_identifiers() -> dict[str, IdentifierRule]:
    return {
        "resident_id": IdentifierRule(priority=1, max_per_profile=1, never_merge_different=True),
        "member_id": IdentifierRule(priority=2, max_per_profile=3),
        "user_id": IdentifierRule(priority=3, max_per_profile=3),
        "phone": IdentifierRule(priority=4, max_per_profile=5),
        "email": IdentifierRule(priority=5, max_per_profile=5),
        "anonymous_id": IdentifierRule(priority=6, max_per_profile=100),
    }


def _default_blocklist() -> dict[str, list[str]]:
    return {
        "*": ["0", "null", "none", "nil", "n/a", "na", "unknown", "anonymous", "test", "-"],
        "phone": ["+8613800000000", "+8613800138000", "+8613888888888", "+8618888888888"],
        "email": ["test@test.com", "test@example.com", "noreply@example.com", "a@a.com"],
        "resident_id": ["111111111111111111", "000000000000000000"],
    }


def _default_survivorship() -> dict[str, SurvivorshipRule]:
    trusted = SurvivorshipRule(strategy="source_priority", then="most_recent")
    recent = SurvivorshipRule(strategy="most_recent", then="source_priority")
    return {
        "name": trusted,
        "gender": trusted,
        "birthday": trusted,
        "resident_id": trusted,
        "phone": SurvivorshipRule(strategy="most_frequent", then="most_recent"),
        "email": recent,
        "member_level": trusted,
        "province": recent,
        "city": recent,
        "occupation": SurvivorshipRule(strategy="first_non_empty", then="source_priority"),
        "industry": recent,
        "credit_band": recent,
    }


class IdentitySpec(_Strict):
    """Everything identity resolution needs to know, saved with the workspace."""

    version: Literal[1] = 1
    identifiers: dict[str, IdentifierRule] = Field(default_factory=_default_identifiers)
    blocklist: dict[str, list[str]] = Field(
        default_factory=_default_blocklist,
        description="Junk values never used for matching, per type; '*' applies to every type",
    )
    email_strip_plus_tag: bool = Field(
        default=False, description="Treat name+tag@domain as name@domain when matching"
    )
    source_trust: list[str] = Field(
        default_factory=lambda: [
            "crm_members",
            "ecommerce_orders",
            "pos_receipts",
            "enrichment_third_party",
            "events",
        ],
        description="Sources from most to least trusted, for source_priority survivorship",
    )
    survivorship: dict[str, SurvivorshipRule] = Field(default_factory=_default_survivorship)
    stitch_events: bool = Field(
        default=True,
        description="Link anonymous ids to the user ids seen with them in events (identify, alias)",
    )
    trait_identifiers: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "phone": ["phone", "mobile"],
            "email": ["email"],
            "member_id": ["member_id", "memberId"],
        },
        description="Identify/group traits read as identifiers: type -> trait keys",
    )
    probabilistic: ProbabilisticSpec | None = Field(
        default=None, description="Fellegi-Sunter matching for records without a shared key"
    )

    @field_validator("identifiers")
    @classmethod
    def _known_types(cls, value: dict[str, IdentifierRule]) -> dict[str, IdentifierRule]:
        for id_type, rule in value.items():
            if id_type not in ID_TYPES:
                raise ValueError(
                    f"unknown identifier type {id_type!r}; known: {', '.join(ID_TYPES)}"
                )
            if rule.never_merge_different and rule.max_per_profile not in (None, 1):
                raise ValueError(
                    f"{id_type}: never_merge_different needs max_per_profile 1 (or absent)"
                )
        return value

    @field_validator("blocklist")
    @classmethod
    def _blocklist_types(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for id_type in value:
            if id_type != "*" and id_type not in ID_TYPES:
                raise ValueError(f"blocklist: unknown identifier type {id_type!r}")
        return value

    @field_validator("trait_identifiers")
    @classmethod
    def _trait_types(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for id_type, keys in value.items():
            if id_type not in ID_TYPES:
                raise ValueError(f"trait_identifiers: unknown identifier type {id_type!r}")
            for key in keys:
                if not key.replace("_", "").isalnum():
                    raise ValueError(f"trait_identifiers.{id_type}: trait key must be a plain name")
        return value

    @field_validator("survivorship")
    @classmethod
    def _known_attributes(cls, value: dict[str, SurvivorshipRule]) -> dict[str, SurvivorshipRule]:
        for attribute in value:
            if attribute not in SURVIVING_ATTRIBUTES:
                raise ValueError(f"survivorship: unknown attribute {attribute!r}")
        return value

    @model_validator(mode="after")
    def _something_matches(self) -> IdentitySpec:
        if not any(rule.match for rule in self.identifiers.values()) and not self.probabilistic:
            raise ValueError("identifiers: at least one type must match, or enable probabilistic")
        return self

    def limits(self) -> dict[str, int]:
        """Per-type limits for the clusterer (guarded types are limited to one value)."""
        out = {t: r.max_per_profile for t, r in self.identifiers.items() if r.max_per_profile}
        return {t: int(v) for t, v in out.items()}

    def guarded(self) -> set[str]:
        """Types whose differing values forbid a merge."""
        return {t for t, r in self.identifiers.items() if r.never_merge_different}

    def blocked(self, id_type: str) -> frozenset[str]:
        """Blocklisted values of one type (compared case-insensitively, normalized)."""
        values = [*self.blocklist.get("*", ()), *self.blocklist.get(id_type, ())]
        return frozenset(v.strip().casefold() for v in values)
