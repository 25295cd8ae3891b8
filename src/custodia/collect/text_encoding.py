"""Find the character encoding of a text export, and check that a whole file decodes with it.

Exports from Chinese systems are UTF-8 (often with a byte-order mark, as Excel writes it) or
GBK/GB18030 (older ERP, POS and CRM systems). Detection is strict and cheap: a byte-order mark
decides; otherwise the whole file must decode as UTF-8, else as GB18030 (a superset of GBK and
GB2312). Anything else must be named with ``--encoding`` (``big5``, ``shift_jis``, ...).

When no encoding decodes every byte, :func:`scan_encoding` says so and the reader keeps the
lines that do decode and quarantines the others, instead of guessing characters.

Example::

    scan = scan_encoding(Path("members.csv"))      # or scan_encoding(path, declared="gbk")
    scan.encoding, scan.clean                       # ('gb18030', True)
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from custodia.core.errors import ValidationError

__all__ = ["EncodingScan", "decode_lines", "normalize_encoding", "scan_encoding"]

BLOCK_BYTES = 4 << 20
CANDIDATES = ("utf-8", "gb18030")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class EncodingScan:
    """The encoding a file will be read with, and whether every byte of it decodes."""

    encoding: str
    clean: bool
    declared: bool


def normalize_encoding(name: str) -> str:
    """The codec's canonical name (``GBK`` -> ``gbk``, ``utf8`` -> ``utf-8``); an error names
    the option when Python has no such codec."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValidationError(
            "encoding", "known", f"unknown encoding '{name}' (try utf-8, gb18030, gbk or big5)"
        ) from None


def scan_encoding(path: Path, declared: str | None = None) -> EncodingScan:
    """Pick the encoding of ``path`` (the declared one, a BOM's, UTF-8 or GB18030) and check it.

    Reads the file once per candidate, stopping at the first undecodable byte, so a clean UTF-8
    file costs one pass at memory speed.
    """
    if declared:
        encoding = normalize_encoding(declared)
        return EncodingScan(encoding, _decodes(path, encoding), declared=True)
    bom = _bom_encoding(path)
    if bom:
        return EncodingScan(bom, _decodes(path, bom), declared=False)
    for candidate in CANDIDATES:
        if _decodes(path, candidate):
            return EncodingScan(candidate, True, declared=False)
    return EncodingScan(CANDIDATES[0], False, declared=False)


def decode_lines(data: bytes, encoding: str) -> Iterator[tuple[int, str | None, bytes]]:
    """Each line of ``data`` (1-based number, decoded text or ``None``, the raw bytes).

    Used only for files that do not decode cleanly: lines are split on ``\\n`` bytes, which is
    safe for UTF-8, GBK and GB18030 (no multi-byte character contains the byte 0x0A).
    """
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            yield number, raw.decode(encoding), raw
        except UnicodeDecodeError:
            yield number, None, raw


def _bom_encoding(path: Path) -> str | None:
    with path.open("rb") as fh:
        head = fh.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    return None


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while block := fh.read(BLOCK_BYTES):
                decoder.decode(block, final=False)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
