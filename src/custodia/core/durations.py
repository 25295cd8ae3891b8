"""Durations written the short way (``90m``, ``36h``, ``14d``, ``2w``) in rule files and options.

Example: ``parse_duration("14d")`` gives ``timedelta(days=14)``.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["parse_duration"]

_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}


def parse_duration(text: str) -> timedelta:
    """``90m``, ``36h``, ``2d``, ``1w`` -> timedelta; anything else is a ValueError."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if not match:
        raise ValueError("duration must look like 90m, 36h, 2d or 1w")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(minutes=amount) * _UNIT_MINUTES[unit]
