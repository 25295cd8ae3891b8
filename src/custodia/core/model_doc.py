"""Render ``docs/data-model.md`` from :mod:`custodia.core.tables`, so the document cannot drift.

Regenerate with ``make docs`` (``python -m custodia.core.model_doc docs/data-model.md``); a test
fails when the committed file differs from what this module renders.
"""

from __future__ import annotations

import sys
from pathlib import Path

from custodia.core.tables import TABLES, TableSpec
from custodia.core.types import Tier

_HEADER = """# Custodia data model

<!-- Generated from src/custodia/core/tables.py by `make docs`. Do not edit by hand. -->

Every canonical table, where it lives and what each column holds. Each column carries a
classification tier:

| Tier | Meaning | Examples |
|---|---|---|
| L3 | highly sensitive 高度敏感 | resident ID numbers, credit and income bands, free text |
| L2 | sensitive 敏感 | names, phones, emails, addresses, birthdays, purchase amounts |
| L1 | general 一般 | region, product, technical and business fields |

*Personal* marks columns that relate to an identifiable person: they are kept out of Delta
statistics, masked by role, exported on access requests and removed on erasure.

Lakehouse zones: `raw` (as delivered), `staged` (mapped to the canonical shape), `curated`
(unified and derived). Tables whose home is `store` live in the operational store (SQLite or
PostgreSQL).

"""


def render_data_model() -> str:
    """The whole Markdown document."""
    parts = [_HEADER, _overview()]
    parts.extend(_table_section(spec) for spec in TABLES)
    return "\n".join(parts)


def _overview() -> str:
    lines = [
        "## Tables",
        "",
        "| Table | Zone | Home | Domain | Key | Partitioned by |",
        "|---|---|---|---|---|---|",
    ]
    for spec in TABLES:
        lines.append(
            f"| [`{spec.name}`](#{spec.name}) | {spec.zone.value} | "
            f"{spec.home.value} | {spec.domain.value} | `{', '.join(spec.key)}` | "
            f"{', '.join(spec.partition_by) or '-'} |"
        )
    return "\n".join(lines) + "\n"


def _table_section(spec: TableSpec) -> str:
    lines = [
        f"## {spec.name}",
        "",
        spec.description,
        "",
        "| Column | Type | Tier | Personal | Nullable | Description |",
        "|---|---|---|---|---|---|",
    ]
    for col in spec.columns:
        lines.append(
            f"| `{col.name}` | `{col.type}` | {col.tier.value} | "
            f"{'yes' if col.personal else ''} | {'' if col.nullable else 'no'} | "
            f"{col.description.replace('|', '/')} |"
        )
    counts = ", ".join(
        f"{tier.value}: {sum(c.tier is tier for c in spec.columns)}" for tier in Tier
    )
    lines += ["", f"Columns by tier: {counts}.", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = render_data_model()
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
