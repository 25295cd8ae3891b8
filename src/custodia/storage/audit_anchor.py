"""The audit chain's anchor: signed heads kept outside the operational store.

A hash chain alone cannot show that its newest entries were deleted, nor that someone with
write access re-sealed every entry after an edit (the hashes are unkeyed). The anchor closes both
gaps: after every committed append, :class:`~custodia.storage.store_audit.AuditLog` records the
new head (``seq``, ``hash``) here, and the verifier checks the chain against it.

:class:`FileAuditAnchor` keeps heads in ``HOME/audit/anchor.jsonl``: one JSON line per head,
appended under an exclusive lock and fsynced, each signed with HMAC-SHA256 under a key from the
workspace's secrets, so an edited or forged line fails its signature. Another sink (a WORM
bucket, a transparency log, a second server) plugs in by implementing :class:`AuditAnchor`.

A crash can tear the last line; a final line without its newline is ignored when read and cut
off before the next write, which gives nobody more than deleting that line would (the entry it
vouched for shows up as unanchored until a later head is anchored).

Example::

    anchor = FileAuditAnchor(home / "audit" / "anchor.jsonl", key=lambda: secret)
    anchor.record(AnchorHead(seq=1, hash="ab" * 32))
    anchor.read().heads        # {1: 'abab...'}
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from custodia.core.errors import StorageError

__all__ = [
    "ANCHOR_FILE",
    "AnchorHead",
    "AnchorReading",
    "AuditAnchor",
    "BadAnchorLine",
    "FileAuditAnchor",
    "anchor_key",
]

ANCHOR_FILE: Final = Path("audit") / "anchor.jsonl"
"""Where a workspace keeps its anchor, relative to HOME (outside the store and the lake)."""

_FORMAT: Final = "custodia-audit-anchor/v1"
_KEY_LABEL: Final = b"custodia/audit-anchor/v1"
_TAIL_SCAN: Final = 64 * 1024
"""How far back a torn last line is looked for; a line is about 180 bytes."""


@dataclass(frozen=True, slots=True)
class AnchorHead:
    """The chain's head after one append: the entry's sequence number and hash."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class BadAnchorLine:
    """An anchor line that fails its signature or cannot be read: the anchor was edited.

    ``line`` counts from 1; ``seq`` is the sequence number the line claims, when readable.
    """

    line: int
    seq: int | None


@dataclass(frozen=True, slots=True)
class AnchorReading:
    """What an anchor vouches for: ``heads`` maps seq to hash for every correctly signed line."""

    heads: dict[int, str] = field(default_factory=dict)
    bad_lines: tuple[BadAnchorLine, ...] = ()

    @property
    def newest_seq(self) -> int | None:
        """The highest anchored sequence number, or ``None`` when nothing is anchored."""
        return max(self.heads, default=None)


@runtime_checkable
class AuditAnchor(Protocol):
    """A place outside the store that remembers every head of the audit chain.

    ``record`` is called after each committed append and must be durable when it returns;
    ``read`` returns everything recorded so far, with the lines that fail their check.
    """

    def record(self, head: AnchorHead) -> None: ...

    def read(self) -> AnchorReading: ...


def anchor_key(secret: bytes) -> bytes:
    """The anchor's HMAC key, derived from a workspace secret (never the secret itself).

    >>> len(anchor_key(b"s" * 32))
    32
    """
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


class FileAuditAnchor:
    """Signed heads in an append-only JSON-lines file (mode 0600, directory 0700).

    ``key`` is called when the first line is signed or checked, so building the object reads no
    secret; it returns the HMAC key (see :func:`anchor_key`).
    """

    def __init__(self, path: Path, key: Callable[[], bytes]) -> None:
        self._path = path
        self._key_source = key
        self._key: bytes | None = None

    @property
    def path(self) -> Path:
        return self._path

    def record(self, head: AnchorHead) -> None:
        """Append one signed line and fsync it; StorageError when the file cannot be written."""
        line = self._line(head)
        try:
            self._append(line)
        except OSError as exc:
            raise StorageError(
                f"audit anchor {self._path}: cannot append ({exc.strerror})"
            ) from None

    def read(self) -> AnchorReading:
        """Every line, checked; a missing file is an empty anchor."""
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return AnchorReading()
        except OSError as exc:
            raise StorageError(f"audit anchor {self._path}: cannot read ({exc.strerror})") from None
        lines = raw.split(b"\n")
        complete = lines[:-1]  # the part after the last newline is empty or a torn write
        heads: dict[int, str] = {}
        bad: list[BadAnchorLine] = []
        for number, line in enumerate(complete, start=1):
            self._check_line(number, line, heads, bad)
        return AnchorReading(heads, tuple(bad))

    def _check_line(
        self, number: int, line: bytes, heads: dict[int, str], bad: list[BadAnchorLine]
    ) -> None:
        parsed = _parse(line)
        if parsed is None:
            bad.append(BadAnchorLine(number, _claimed_seq(line)))
            return
        head, mac = parsed
        if not hmac.compare_digest(mac, self._mac(head)):
            bad.append(BadAnchorLine(number, head.seq))
            return
        heads[head.seq] = head.hash

    def _line(self, head: AnchorHead) -> bytes:
        doc = {"format": _FORMAT, "seq": head.seq, "hash": head.hash, "mac": self._mac(head)}
        return (json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n").encode("ascii")

    def _mac(self, head: AnchorHead) -> str:
        if self._key is None:
            self._key = self._key_source()
        message = f"{_FORMAT}|{head.seq}|{head.hash}".encode("ascii")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _append(self, line: bytes) -> None:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        created = not self._path.exists()
        fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _cut_torn_tail(fd)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # also releases the lock
        if created:
            _fsync_dir(self._path.parent)


def _parse(line: bytes) -> tuple[AnchorHead, str] | None:
    try:
        doc: Any = json.loads(line)
        if doc.get("format") != _FORMAT:
            return None
        seq, digest, mac = doc["seq"], doc["hash"], doc["mac"]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    valid = (
        type(seq) is int and seq > 0 and isinstance(digest, str) and isinstance(mac, str)
    ) and digest.isascii()
    return (AnchorHead(seq, digest), mac) if valid else None


def _claimed_seq(line: bytes) -> int | None:
    """The seq an unreadable line still shows, to point the reader at the right entry."""
    try:
        seq = json.loads(line).get("seq")
    except (ValueError, TypeError, AttributeError):
        return None
    return seq if type(seq) is int else None


def _cut_torn_tail(fd: int) -> None:
    """Drop a last line a crash left without its newline (the lock is held)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = max(0, size - _TAIL_SCAN)
    tail = os.pread(fd, size - start, start)
    os.ftruncate(fd, start + tail.rfind(b"\n") + 1 if b"\n" in tail else start)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
