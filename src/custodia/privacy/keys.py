"""Master keys: the key-encryption keys (KEKs) that wrap customers' data keys, and the index secret.

The key hierarchy has three levels, and only the top one lives outside the operational store:

1. **Master keys** (this module), kept OUTSIDE the lakehouse and the store: versioned KEKs
   (``kek-1``, ``kek-2``, ...; one is active) and one index secret. By default they are a JSON file
   under ``HOME/keys/`` with mode 0600 (:class:`FileKeyProvider`); a KMS or HSM plugs in by
   implementing :class:`KeyProvider`, so KEK bytes never have to leave it.
2. **Data keys** (:mod:`custodia.privacy.data_keys`): one random AES-256 key per customer, stored
   only wrapped (AES-GCM under a KEK) in the store's ``data_keys`` table.
3. **Field ciphertexts** (:mod:`custodia.privacy.field_crypto`): values encrypted under the
   customer's data key.

Blind indexes use keys derived from the index secret with HKDF-SHA256, one per identifier type.
The index secret is separate from the KEKs, so rotating a KEK changes no digest and no data.

Example::

    provider = FileKeyProvider.for_workspace(home)     # HOME/keys/master-keys.json, 0600
    wrapped = provider.wrap(os.urandom(32), b"bound-to-this-row")
    provider.unwrap(wrapped, b"bound-to-this-row")
    provider.add_kek()            # kek-2 becomes active; kek-1 still unwraps until retired
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from custodia.core.clock import Clock, SystemClock
from custodia.privacy.errors import DecryptionError, KeyManagementError, UnknownKeyError

__all__ = [
    "FileKeyProvider",
    "KeyProvider",
    "MasterKeys",
    "WrappedKey",
]

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
FILE_FORMAT: Final = "custodia-master-keys/v1"
WORKSPACE_KEY_FILE: Final = Path("keys") / "master-keys.json"
"""Where a workspace keeps its master keys, relative to HOME (next to the lake, never inside)."""

_KEK_ID = re.compile(r"kek-([1-9][0-9]{0,8})")
_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key encrypted under the master key version ``kek_id`` (nonce + ciphertext + tag)."""

    kek_id: str
    blob: bytes


@runtime_checkable
class KeyProvider(Protocol):
    """Where master keys live. Implement it to keep KEKs in a KMS or HSM.

    ``wrap`` always uses the active KEK; ``unwrap`` uses the version named in the wrapped key.
    ``aad`` binds a wrapped key to its owner: unwrapping with other associated data must fail.
    ``index_key(purpose)`` returns a stable 32-byte HMAC key per purpose (identifier type); a
    KMS-backed provider can keep the index secret wrapped by the KMS and unwrap it at start.
    """

    def active_kek(self) -> str: ...

    def kek_ids(self) -> list[str]: ...

    def wrap(self, key: bytes, aad: bytes) -> WrappedKey: ...

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes: ...

    def index_key(self, purpose: str) -> bytes: ...

    def add_kek(self) -> str: ...

    def retire_kek(self, kek_id: str) -> None: ...


@dataclass
class MasterKeys:
    """Master keys held in memory: the building block of :class:`FileKeyProvider`, and the
    provider for tests or for a secret that arrives through configuration (:meth:`from_secret`).

    >>> keys = MasterKeys.generate()
    >>> keys.unwrap(keys.wrap(b"k" * 32, b"aad"), b"aad") == b"k" * 32
    True
    """

    keks: dict[str, bytes] = field(repr=False)
    active: str
    index_secret: bytes = field(repr=False)
    created: dict[str, str] = field(default_factory=dict)
    retired: dict[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=SystemClock, repr=False)
    _index_keys: dict[str, bytes] = field(default_factory=dict, repr=False)
    _aeads: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keks:
            raise KeyManagementError(f"master keys: active key {self.active} is not held")
        for kek_id, kek in self.keks.items():
            if not _KEK_ID.fullmatch(kek_id) or len(kek) != KEY_BYTES:
                raise KeyManagementError(f"master keys: {kek_id} is not a 32-byte kek-N key")
        if len(self.index_secret) != KEY_BYTES:
            raise KeyManagementError("master keys: the index secret must be 32 bytes")

    @classmethod
    def generate(cls, clock: Clock | None = None) -> MasterKeys:
        """Fresh random master keys: ``kek-1`` active and a new index secret."""
        clock = clock or SystemClock()
        return cls(
            keks={"kek-1": secrets.token_bytes(KEY_BYTES)},
            active="kek-1",
            index_secret=secrets.token_bytes(KEY_BYTES),
            created={"kek-1": clock.now().isoformat()},
            clock=clock,
        )

    @classmethod
    def from_secret(cls, secret: str | bytes) -> MasterKeys:
        """Master keys derived (HKDF-SHA256) from one configured secret of 32+ bytes.

        Deterministic, so every process configured with the same secret holds the same keys.
        Rotation needs state, so add_kek on these keys lasts only as long as the object: use a
        key file or a KMS where KEKs must rotate.
        """
        material = secret.encode() if isinstance(secret, str) else secret
        if len(material) < KEY_BYTES:
            raise KeyManagementError("master secret: must be at least 32 bytes")
        return cls(
            keks={"kek-1": _derive(material, b"custodia/kek/1")},
            active="kek-1",
            index_secret=_derive(material, b"custodia/index-secret/v1"),
        )

    def active_kek(self) -> str:
        return self.active

    def kek_ids(self) -> list[str]:
        """Held KEK versions, oldest first."""
        return sorted(self.keks, key=_kek_number)

    def wrap(self, key: bytes, aad: bytes) -> WrappedKey:
        nonce = secrets.token_bytes(NONCE_BYTES)
        blob = nonce + self._aead(self.active).encrypt(nonce, key, aad)
        return WrappedKey(self.active, blob)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        aead = self._aead(wrapped.kek_id)
        nonce, body = wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, body, aad)
        except InvalidTag:
            raise DecryptionError(
                f"a data key wrapped under {wrapped.kek_id} failed authentication "
                "(altered, or moved to another key row)"
            ) from None

    def index_key(self, purpose: str) -> bytes:
        """The HMAC key of one blind-index purpose (an identifier type such as ``phone``)."""
        key = self._index_keys.get(purpose)
        if key is None:
            if not _PURPOSE.fullmatch(purpose):
                raise KeyManagementError("index key purpose: must be 1-32 of a-z, 0-9 and _")
            key = _derive(self.index_secret, b"custodia/blind-index/v1/" + purpose.encode())
            self._index_keys[purpose] = key
        return key

    def add_kek(self) -> str:
        """Create the next KEK version and make it the active one; returns its id."""
        newest = max([_kek_number(k) for k in [*self.keks, *self.retired]])
        kek_id = f"kek-{newest + 1}"
        self.keks[kek_id] = secrets.token_bytes(KEY_BYTES)
        self.created[kek_id] = self.clock.now().isoformat()
        self.active = kek_id
        return kek_id

    def retire_kek(self, kek_id: str) -> None:
        """Destroy a KEK that no longer wraps anything; the active one cannot be retired."""
        if kek_id == self.active:
            raise KeyManagementError(f"master key {kek_id} is active; rotate before retiring it")
        if kek_id not in self.keks:
            raise UnknownKeyError(f"master key {kek_id} is not held (retired or never created)")
        del self.keks[kek_id]
        self._aeads.pop(kek_id, None)
        self.retired[kek_id] = self.clock.now().isoformat()

    def _aead(self, kek_id: str) -> AESGCM:
        aead = self._aeads.get(kek_id)
        if aead is None:
            kek = self.keks.get(kek_id)
            if kek is None:
                raise UnknownKeyError(f"master key {kek_id} is not held (retired or never created)")
            aead = self._aeads[kek_id] = AESGCM(kek)
        return aead

    def to_document(self) -> dict[str, Any]:
        """The JSON form stored in a key file (key bytes in base64)."""
        return {
            "format": FILE_FORMAT,
            "active": self.active,
            "keks": {
                kek_id: {"key": _b64(kek), "created_at": self.created.get(kek_id)}
                for kek_id, kek in sorted(self.keks.items(), key=lambda item: _kek_number(item[0]))
            },
            "retired": dict(sorted(self.retired.items(), key=lambda item: _kek_number(item[0]))),
            "index_secret": _b64(self.index_secret),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], clock: Clock | None = None) -> MasterKeys:
        """Read :meth:`to_document`'s form; a clear error (no key bytes) when it is malformed."""
        if not isinstance(doc, Mapping) or doc.get("format") != FILE_FORMAT:
            raise KeyManagementError(f"master key file: not a {FILE_FORMAT} document")
        try:
            keks = {str(k): _unb64(v["key"]) for k, v in doc["keks"].items()}
            created = {str(k): str(v.get("created_at") or "") for k, v in doc["keks"].items()}
            return cls(
                keks=keks,
                active=str(doc["active"]),
                index_secret=_unb64(doc["index_secret"]),
                created=created,
                retired={str(k): str(v) for k, v in doc.get("retired", {}).items()},
                clock=clock or SystemClock(),
            )
        except (KeyError, TypeError, AttributeError, ValueError, binascii.Error):
            raise KeyManagementError("master key file: a field is missing or malformed") from None


class FileKeyProvider:
    """Master keys in a JSON file outside the lakehouse (default ``HOME/keys/master-keys.json``).

    The file must be mode 0600 (0400 is fine too); a file others can read is refused. Changes
    (``add_kek``, ``retire_kek``) hold an exclusive lock on a sibling ``.lock`` file and replace the
    file atomically. Every process re-reads the file when it changed on disk before wrapping a new
    data key, and once more when asked to unwrap under a version it does not hold, so a rotation
    done by ``custodia`` in another process is picked up without a restart.

    Example::

        provider = FileKeyProvider.open_or_create(Path("/srv/custodia/keys/master-keys.json"))
        provider.active_kek()        # 'kek-1'
    """

    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        self._path = path
        self._clock = clock or SystemClock()
        self._keys, self._seen = self._read()

    @classmethod
    def open_or_create(cls, path: Path, clock: Clock | None = None) -> FileKeyProvider:
        """Open the key file, creating it (and its 0700 directory) with fresh keys if missing."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(path):
            if not path.exists():
                _write_private(path, MasterKeys.generate(clock).to_document())
        return cls(path, clock)

    @classmethod
    def for_workspace(cls, home: Path, clock: Clock | None = None) -> FileKeyProvider:
        """The workspace's master keys, ``HOME/keys/master-keys.json``, created on first use.

        >>> FileKeyProvider.for_workspace(tmp_path).path.name  # doctest: +SKIP
        'master-keys.json'
        """
        return cls.open_or_create(home / WORKSPACE_KEY_FILE, clock)

    @property
    def path(self) -> Path:
        return self._path

    def active_kek(self) -> str:
        self._refresh_if_changed()
        return self._keys.active_kek()

    def kek_ids(self) -> list[str]:
        self._refresh_if_changed()
        return self._keys.kek_ids()

    def wrap(self, key: bytes, aad: bytes) -> WrappedKey:
        self._refresh_if_changed()
        return self._keys.wrap(key, aad)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        if wrapped.kek_id not in self._keys.keks:
            self._refresh_if_changed()
        return self._keys.unwrap(wrapped, aad)

    def index_key(self, purpose: str) -> bytes:
        return self._keys.index_key(purpose)

    def add_kek(self) -> str:
        with self._changing() as keys:
            return keys.add_kek()

    def retire_kek(self, kek_id: str) -> None:
        with self._changing() as keys:
            keys.retire_kek(kek_id)

    @contextmanager
    def _changing(self) -> Iterator[MasterKeys]:
        """Lock, re-read, let the caller change the keys, write them back atomically."""
        with _locked(self._path):
            self._keys, self._seen = self._read()
            yield self._keys
            _write_private(self._path, self._keys.to_document())
            self._keys, self._seen = self._read()

    def _refresh_if_changed(self) -> None:
        if _signature(self._path) != self._seen:
            self._keys, self._seen = self._read()

    def _read(self) -> tuple[MasterKeys, tuple[int, int, int]]:
        try:
            info = self._path.stat()
            if info.st_mode & 0o077:
                raise KeyManagementError(
                    f"master key file {self._path} is readable by other users "
                    f"(mode {stat.S_IMODE(info.st_mode):o}); run chmod 600 on it"
                )
            doc = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyManagementError(f"master key file {self._path} does not exist") from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise KeyManagementError(f"master key file {self._path} is not JSON") from None
        keys = MasterKeys.from_document(doc, self._clock)
        return keys, (info.st_ino, info.st_mtime_ns, info.st_size)


def _signature(path: Path) -> tuple[int, int, int]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return (0, 0, 0)
    return (info.st_ino, info.st_mtime_ns, info.st_size)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock shared by every process changing this key file."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_private(path: Path, doc: Mapping[str, Any]) -> None:
    """Write a 0600 file next to ``path``, flush it to disk, then rename it over ``path``."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, indent=2) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    temp.replace(path)


def _derive(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(material)


def _kek_number(kek_id: str) -> int:
    match = _KEK_ID.fullmatch(kek_id)
    return int(match.group(1)) if match else 0


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)
