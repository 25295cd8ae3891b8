"""Display masks for identifiers: enough to recognise a value, not enough to use it.

These are the formats the product shows wherever an identifier must be referred to without being
disclosed (explanations, logs, review screens): phone ``138****5678``, resident ID
``110105********002X``, email ``z***@example.com``, bank card ``***************0128`` (the last
four digits), name ``*三`` / ``J*** Smith``. Role-based
masking policy (who sees what) builds on these formats.

>>> mask_identifier("phone", "+8613812345678")
'138****5678'
>>> mask_identifier("email", "zhang.san@example.com")
'z***@example.com'
>>> mask_identifier("resident_id", "11010519491231002X")
'110105********002X'
"""

from __future__ import annotations

__all__ = ["mask_identifier", "mask_name"]


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + (value[-tail:] if tail else "")


def mask_identifier(id_type: str, value: str) -> str:
    """The display mask of one identifier value of type ``id_type``."""
    if id_type == "phone":
        national = value.removeprefix("+86") if value.startswith("+86") else value
        if len(national) == 11 and national.isdigit():
            return f"{national[:3]}****{national[-4:]}"
        return _keep(value, 3, 2)
    if id_type == "email":
        local, at, domain = value.partition("@")
        return f"{local[:1]}***{at}{domain}" if at else _keep(value, 1, 0)
    if id_type == "resident_id":
        return _keep(value, 6, 4)
    if id_type == "bank_card":
        return _keep(value, 0, 4)
    if id_type == "name":
        return mask_name(value)
    return _keep(value, 3, 2)


def mask_name(name: str) -> str:
    """Chinese names keep the last character (``*三``); others keep initials of each word."""
    name = name.strip()
    if not name:
        return name
    if not name.isascii():
        return "*" * (len(name) - 1) + name[-1]
    return " ".join(word[:1] + "***" for word in name.split())
