"""Named value formats for ``check: format`` rules, as regular expressions both engines and Python
understand (RE2-compatible: no look-arounds or back-references).

The patterns judge the shape a value is typed in, before any normalization: a Chinese mobile
number may carry a +86/0086 prefix and spaces or dashes between its 3-4-4 groups, but it must
be 11 digits starting 13-19; full-width digits are refused (they are ASCII-only fields).

Example::

    FORMATS["cn_mobile"].matches("+86 138-0013-8000")     # True
    FORMATS["cn_mobile"].matches("1380013800")            # False: 10 digits
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["FORMATS", "ValueFormat"]


@dataclass(frozen=True)
class ValueFormat:
    name: str
    pattern: str
    description: str
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def matches(self, value: str) -> bool:
        return self._compiled.fullmatch(value) is not None


_FORMATS = (
    ValueFormat(
        "cn_mobile",
        r"(\+86|0086)?[ -]?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}",
        "Mainland China mobile: 11 digits starting 13-19, optional +86/0086, 3-4-4 separators",
    ),
    ValueFormat("e164", r"\+[1-9][0-9]{6,14}", "E.164 phone number: + and 7-15 digits"),
    ValueFormat(
        "email",
        r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
        "Email address: local part, @, a domain with a dot",
    ),
    ValueFormat(
        "cn_resident_id",
        r"[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]",
        "GB 11643 resident ID: 18 characters, region, birth date, sequence, check digit",
    ),
    ValueFormat("cn_postcode", r"[1-9][0-9]{5}", "Mainland China postcode: 6 digits"),
    ValueFormat("iso_date", r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "ISO 8601 date (YYYY-MM-DD)"),
    ValueFormat(
        "uuid",
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "UUID in its 8-4-4-4-12 hex form",
    ),
)

FORMATS: dict[str, ValueFormat] = {f.name: f for f in _FORMATS}
