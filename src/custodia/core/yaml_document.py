"""Reading a YAML settings document (rule files, catalog overrides, specs) so that its errors can
name the file and the line.

``yaml.safe_load`` gives the values; ``yaml.compose`` gives the node tree, whose marks say on
which line each entry starts. Both are parsed from the same text, so a caller validates the values
with pydantic and points at the line of the entry that failed.

Example::

    document, node = load_yaml_mapping(text, origin="catalog.yaml", field="catalog")
    entry_lines(node, "tables")        # {'orders': 3, 'profiles': 9}
    item_lines(node, "metrics")        # [4, 12]: where each item of a list starts
    try:
        MetricSet.model_validate(document)
    except pydantic.ValidationError as exc:
        raise item_error(exc, document, {"metrics": item_lines(node, "metrics")},
                         origin="metrics.yaml", fallback="metrics")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

import pydantic
import yaml

from custodia.core.errors import ValidationError

__all__ = ["entry_lines", "item_error", "item_lines", "load_yaml_mapping"]

_FIELD_PREFIX: Final = re.compile(r"([a-z_]+): ")


def load_yaml_mapping(
    text: str, *, origin: str, field: str
) -> tuple[dict[str, Any], yaml.Node | None]:
    """The document (a mapping; empty text is ``{}``) and its node tree.

    Bad YAML raises a ValidationError on ``field`` naming ``origin`` and the line; the message
    carries the parser's problem, never the text around it.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ValidationError(field, "yaml", f"{origin}{where}: {problem}") from None
    if not isinstance(document, dict):
        raise ValidationError(field, "mapping", f"{origin}: must be a mapping")
    return document, node


def entry_lines(node: yaml.Node | None, key: str) -> dict[str, int]:
    """For the mapping under top-level ``key``: each entry's key -> the line it starts on."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    for key_node, value in node.value:
        if key_node.value == key and isinstance(value, yaml.MappingNode):
            return {str(k.value): k.start_mark.line + 1 for k, _ in value.value}
    return {}


def item_lines(node: yaml.Node | None, key: str) -> list[int]:
    """For the list under top-level ``key``: the line each item starts on, in order."""
    if not isinstance(node, yaml.MappingNode):
        return []
    for key_node, value in node.value:
        if key_node.value == key and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def item_error(
    exc: pydantic.ValidationError,
    document: Mapping[str, Any],
    lines: Mapping[str, list[int]],
    *,
    origin: str,
    fallback: str,
    tag_of: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> ValidationError:
    """pydantic's first problem with a document of list sections (``rules: [...]``) as a
    ValidationError naming the file, the line and the item: ``rules.yaml line 12, rule
    email_format: pattern: ...``.

    ``lines`` maps each list section to the lines its items start on (:func:`item_lines`); an
    item is named by its ``name`` (else ``#n``) and called by its section's singular (``rules``
    -> ``rule``). ``tag_of(item)`` gives the discriminator pydantic puts in the path of a tagged
    union (``rules.3.regex.pattern``), which is dropped. A problem outside the list items names
    the path, else ``fallback``. Messages carry pydantic's text, never the document's values.
    """
    first = exc.errors()[0]
    loc = [str(p) for p in first["loc"]]
    message = first["msg"].removeprefix("Value error, ")
    section = loc[0] if loc else ""
    if section in lines and len(loc) >= 2 and loc[1].isdigit():
        index = int(loc[1])
        items = document.get(section)
        found = items[index] if isinstance(items, list) and index < len(items) else None
        item: Mapping[str, Any] = found if isinstance(found, dict) else {}
        name = item.get("name") if isinstance(item.get("name"), str) else f"#{index + 1}"
        rest = loc[2:]
        if rest and tag_of is not None and rest[0] == tag_of(item):
            rest = rest[1:]
        kind = section.removesuffix("s")
        named = _FIELD_PREFIX.match(message)
        field = ".".join(rest) or (named.group(1) if named else kind)
        text = message if message.startswith(f"{field}:") else f"{field}: {message}"
        at = section_lines[index] if index < len(section_lines := lines[section]) else None
        where = f"{origin} line {at}" if at else origin
        return ValidationError(field, first["type"], f"{where}, {kind} {name}: {text}")
    field = ".".join(loc) or fallback
    return ValidationError(field, first["type"], f"{origin}: {field}: {message}")
