"""Reading and writing the identity spec file (YAML or JSON) with errors that name the field.

Example::

    spec = load_spec(Path("identity/spec.yaml"))     # IdentitySpec, or ValidationError
    save_spec(spec, Path("identity/spec.yaml"))
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pydantic
import yaml

from custodia.core.errors import ValidationError
from custodia.identity.models import IdentitySpec

__all__ = ["load_spec", "parse_spec", "save_spec", "spec_digest"]


def parse_spec(text: str, *, origin: str = "identity spec") -> IdentitySpec:
    """Validate spec text; the first problem becomes a ValidationError naming its field."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationError("spec", "yaml", f"{origin}: not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ValidationError("spec", "mapping", f"{origin}: must be a mapping")
    try:
        return IdentitySpec.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "spec"
        message = first["msg"].removeprefix("Value error, ")
        raise ValidationError(field, first["type"], f"{origin}: {field}: {message}") from None


def load_spec(path: Path) -> IdentitySpec:
    """Read a spec file; a missing file is an error naming the path's file name only."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError("spec", "exists", f"identity spec {path.name} not found") from None
    return parse_spec(text, origin=path.name)


def save_spec(spec: IdentitySpec, path: Path) -> None:
    """Write the spec as YAML (atomically), keeping Chinese text readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = spec.model_dump(mode="json", exclude_none=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)


def spec_digest(spec: IdentitySpec) -> str:
    """A short digest of the spec, stored with each run so results trace to their rules."""
    text = json.dumps(spec.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
