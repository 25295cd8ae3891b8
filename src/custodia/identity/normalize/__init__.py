"""Identifier normalizers: one comparable form per identifier, or a stable reason it was rejected.

Pure functions (no I/O, no settings): each takes raw text and returns :class:`Normalized`, whose
``value`` is the normalized form (``None`` when empty or rejected) and whose ``reason`` is a code
such as ``"phone.not_mobile"`` or ``"resident_id.check_digit"`` that names the rule, never the
value. A rejected identifier is flagged on its record and not used for matching.

Each module's docstring holds the table of its rules; ``docs/identity.md`` ("Normalizers")
collects them.

Example::

    from custodia.identity.normalize import normalize_phone, normalize_values

    normalize_phone("+86 138-1234-5678").value         # '+8613812345678'
    normalize_values("email", [" Anna@X.CN ", "no-at"])
    # (['anna@x.cn', None], [None, 'email.at_sign'])
"""

from custodia.identity.normalize._result import Normalized
from custodia.identity.normalize.address import PROVINCES, AddressParts, parse_address
from custodia.identity.normalize.email import normalize_email
from custodia.identity.normalize.names import name_comparison_key, normalize_name
from custodia.identity.normalize.phone import normalize_phone
from custodia.identity.normalize.registry import NORMALIZERS, normalize_key, normalize_values
from custodia.identity.normalize.resident_id import (
    normalize_resident_id,
    resident_id_birth_date,
    resident_id_check_character,
)

__all__ = [
    "NORMALIZERS",
    "PROVINCES",
    "AddressParts",
    "Normalized",
    "name_comparison_key",
    "normalize_email",
    "normalize_key",
    "normalize_name",
    "normalize_phone",
    "normalize_resident_id",
    "normalize_values",
    "parse_address",
    "resident_id_birth_date",
    "resident_id_check_character",
]
