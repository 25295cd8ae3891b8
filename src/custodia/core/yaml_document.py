"""Reading a YAML settings document (rule files, catalog overrides, specs) so that its errors can
name the file and the line.

``yaml.safe_load`` gives the values; ``yaml.compose`` gives the node tree, whose marks say on
which line each entry starts. Both are parsed from the same text, so a caller validates the values
with pydantic and points at the line of the entry that failed.

Example::

    document, node = load_yaml_mapping(text, origin="catalog.yaml", field="catalog")
    entry_lines(node, "tables")        # {'orders': 3, 'profiles': 9}
    item_lines(node, "metrics")        # [4, 12]: where each item of a list starts
"""

from __future__ import annotations

from typing import Any

import yaml

from custodia.core.errors import ValidationError

__all__ = ["entry_lines", "item_lines", "load_yaml_mapping"]


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
