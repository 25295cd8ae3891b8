"""Lexicons and rules for text mining: shipped defaults, adjusted per workspace in YAML.

Why: a classifier learns what its corpus shows; a brand knows words it never saw (its product
names, a new complaint such as price, the phrases that mean a customer may escalate). Those live
in a YAML file a person can read and edit (``HOME/config/text_mining.yaml``), laid over the
defaults shipped in ``defaults.yaml``; rules can fill the model's gaps or overrule it.

Example::

    config = load_text_mining_config(home / "config" / "text_mining.yaml")  # missing file: defaults
    [rule.name for rule in config.rules][:2]   # ['escalation_risk', 'price_complaint']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from custodia.collect.text_mining.categories import ComplaintType, Sentiment
from custodia.core.errors import ConfigurationError

RuleWhen = Literal["override", "if_other", "if_unsure", "if_other_or_unsure"]
_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)


class TextRule(BaseModel):
    """A phrase rule applied after the model (see ``defaults.yaml`` for the semantics)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80, description="Unique name; tag rule:<name>.")
    enabled: bool = Field(default=True, description="false switches a shipped rule off.")
    when: RuleWhen = Field(default="if_unsure", description="When the rule may change labels.")
    phrases: tuple[str, ...] = Field(default=(), description="Any of these makes the rule fire.")
    unless: tuple[str, ...] = Field(default=(), description="None of these may appear.")
    complaint_type: ComplaintType | None = Field(default=None, description="Complaint it sets.")
    sentiment: Sentiment | None = Field(default=None, description="Sentiment it sets.")
    tags: tuple[str, ...] = Field(default=(), description="Tags it adds when it fires.")

    @model_validator(mode="after")
    def _has_effect(self) -> TextRule:
        if not self.enabled:
            return self
        if not any(p.strip() for p in self.phrases):
            raise ValueError(f"rule {self.name}: needs at least one phrase")
        if self.complaint_type is None and self.sentiment is None and not self.tags:
            raise ValueError(f"rule {self.name}: sets nothing (complaint_type, sentiment or tags)")
        return self


class ProductEntry(BaseModel):
    """A named product and the other ways texts write it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Canonical name, used in the tag product:<name>.")
    aliases: tuple[str, ...] = Field(default=(), description="E.g. the English name.")


class TextMiningConfig(BaseModel):
    """The effective lexicons and rules (defaults with the workspace's changes applied)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    unsure_below: float = Field(default=0.5, ge=0, le=1, description="Unsure model threshold.")
    review_below: float = Field(default=0.5, ge=0, le=1, description="needs_review threshold.")
    tokenizer_words: tuple[str, ...] = Field(default=(), description="Extra jieba words.")
    rules: tuple[TextRule, ...] = Field(default=(), description="Rules in evaluation order.")
    product_types: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    products: tuple[ProductEntry, ...] = Field(default=())
    catalog_from_workspace: bool = Field(
        default=True, description="Add the product names found in order_lines."
    )

    @model_validator(mode="after")
    def _unique_rule_names(self) -> TextMiningConfig:
        names = [r.name for r in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"rule names must be unique: {', '.join(duplicates)}")
        return self

    def active_rules(self) -> tuple[TextRule, ...]:
        return tuple(r for r in self.rules if r.enabled)


class _Overlay(BaseModel):
    """What a workspace file may say: every field optional."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    replace_defaults: bool = False
    unsure_below: float | None = None
    review_below: float | None = None
    tokenizer_words: tuple[str, ...] = ()
    rules: tuple[TextRule, ...] = ()
    product_types: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    products: tuple[ProductEntry, ...] = ()
    catalog_from_workspace: bool | None = None


def default_config_text() -> str:
    """The shipped ``defaults.yaml`` (with its comments), e.g. to copy into a workspace."""
    package = resources.files("custodia.collect.text_mining")
    return package.joinpath("defaults.yaml").read_text("utf-8")


def default_config() -> TextMiningConfig:
    """The shipped lexicons and rules."""
    return _validated(TextMiningConfig, _parse_yaml(default_config_text(), "defaults.yaml"), "")


def load_text_mining_config(workspace_file: Path | None) -> TextMiningConfig:
    """The defaults with ``workspace_file`` laid over them; a missing file means the defaults.

    Errors are :class:`ConfigurationError` naming the file and the field.
    """
    defaults = default_config()
    if workspace_file is None or not workspace_file.is_file():
        return defaults
    try:
        text = workspace_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"{workspace_file.name}: cannot read ({type(exc).__name__})"
        ) from None
    raw = _parse_yaml(text, workspace_file.name)
    overlay = _validated(_Overlay, raw or {}, workspace_file.name)
    return merge_config(defaults, overlay)


def merge_config(defaults: TextMiningConfig, overlay: _Overlay) -> TextMiningConfig:
    """Apply a workspace overlay to the defaults (rules by name, product types by key)."""
    base = TextMiningConfig() if overlay.replace_defaults else defaults
    own = {r.name for r in overlay.rules}
    types = dict(base.product_types) | dict(overlay.product_types)
    merged: dict[str, Any] = {
        "unsure_below": _pick(overlay.unsure_below, base.unsure_below),
        "review_below": _pick(overlay.review_below, base.review_below),
        "tokenizer_words": tuple(dict.fromkeys((*base.tokenizer_words, *overlay.tokenizer_words))),
        "rules": (*overlay.rules, *(r for r in base.rules if r.name not in own)),
        "product_types": {k: v for k, v in types.items() if v},
        "products": (*base.products, *overlay.products),
        "catalog_from_workspace": _pick(
            overlay.catalog_from_workspace, base.catalog_from_workspace
        ),
    }
    return _validated(TextMiningConfig, merged, "text_mining.yaml")


def _pick(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def _parse_yaml(text: str, name: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigurationError(f"{name}: invalid YAML{where}") from None


def _validated(model: type[_M], raw: Any, name: str) -> _M:
    from pydantic import ValidationError as PydanticValidationError

    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        label = f"{name}: " if name else ""
        raise ConfigurationError(f"{label}{where}: {first['msg']}") from None
