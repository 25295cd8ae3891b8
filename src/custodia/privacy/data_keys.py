"""Per-customer data keys (DEKs): created on first use, unwrapped on demand, cached, re-wrapped
when the master key rotates, and shredded when the customer is erased.

A data key is 32 random bytes (AES-256-GCM). The store keeps it only wrapped by the active master
key (:mod:`custodia.privacy.keys`), with associated data that binds the wrapped bytes to their key
id and customer, so a wrapped key copied onto another customer's row does not unwrap.

Rotation never touches field ciphertexts: :meth:`DataKeyRing.rotate` adds a master key version
and re-wraps every live data key under it, then retires versions that wrap nothing any more.
Shredding (:meth:`DataKeyRing.shred`) deletes the only copy of the customer's data key, so all of
their ciphertexts, wherever they were copied (lake history, backups, exports), become unreadable.

Unwrapped keys are cached in process (least recently used, with a time limit), because unwrapping
costs a store read. A shred in this process evicts at once; another process's cache forgets the key
within ``cache_ttl`` at the latest.

Example::

    ring = DataKeyRing(store, FileKeyProvider.open_or_create(home / "keys" / "master-keys.json"))
    keys = ring.keys_for(["prf_1", "prf_2"], actor="loader")   # created when missing
    keys["prf_1"].aead.encrypt(nonce, b"...", aad)
    ring.rotate(actor="admin")                                 # kek-2 wraps every key
    ring.shred("prf_1", actor="privacy-officer")
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from custodia.core.clock import Clock
from custodia.core.errors import ValidationError
from custodia.core.ids import new_id
from custodia.privacy.errors import (
    CryptoError,
    DecryptionError,
    KeyManagementError,
    KeyShreddedError,
    UnknownKeyError,
)
from custodia.privacy.keys import KEY_BYTES, KeyProvider, WrappedKey
from custodia.storage.store import OperationalStore
from custodia.storage.store_keys import DataKeyRow, DataKeyTable, NewDataKey, ShredRecord

__all__ = ["DataKey", "DataKeyRing", "RotationReport", "bound_parts"]

DEFAULT_CACHE_SIZE: Final = 100_000
DEFAULT_CACHE_TTL: Final = timedelta(minutes=5)
_REWRAP_BATCH: Final = 500
_WRAP_LABEL: Final = "custodia/dek/v1"


@dataclass(frozen=True, slots=True)
class DataKey:
    """An unwrapped data key, ready to use: its id, owner and AES-GCM cipher object."""

    key_id: str
    customer_id: str
    aead: AESGCM

    def __repr__(self) -> str:  # never show key material, even by accident
        return f"DataKey(key_id={self.key_id!r}, customer_id={self.customer_id!r})"


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What a rotation did: the active master key, keys re-wrapped, versions retired."""

    active_kek: str
    rewrapped: int
    retired: tuple[str, ...]


def bound_parts(label: str, *parts: str) -> bytes:
    """Associated data from text parts, length-prefixed so no two part lists give the same bytes.

    >>> bound_parts("x", "ab", "c") != bound_parts("x", "a", "bc")
    True
    """
    out = bytearray()
    for part in (label, *parts):
        data = part.encode("utf-8")
        if len(data) > 0xFFFF:
            raise KeyManagementError("associated data: a part is longer than 65535 bytes")
        out += len(data).to_bytes(2, "big") + data
    return bytes(out)


class _KeyCache:
    """Least-recently-used unwrapped keys by key id, each forgotten after ``ttl`` seconds.

    One lock guards it: server worker threads share a ring.
    """

    def __init__(self, size: int, ttl: float) -> None:
        self._size = size
        self._ttl = ttl
        self._entries: OrderedDict[str, tuple[float, DataKey]] = OrderedDict()
        self._by_customer: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key_id: str) -> DataKey | None:
        with self._lock:
            return self._get(key_id)

    def for_customer(self, customer_id: str) -> DataKey | None:
        with self._lock:
            key_id = self._by_customer.get(customer_id)
            return None if key_id is None else self._get(key_id)

    def put(self, key: DataKey) -> None:
        with self._lock:
            self._entries[key.key_id] = (time.monotonic(), key)
            self._entries.move_to_end(key.key_id)
            self._by_customer[key.customer_id] = key.key_id
            while len(self._entries) > self._size:
                _, (_, oldest) = self._entries.popitem(last=False)
                self._by_customer.pop(oldest.customer_id, None)

    def evict_customer(self, customer_id: str) -> None:
        with self._lock:
            key_id = self._by_customer.pop(customer_id, None)
            if key_id is not None:
                self._entries.pop(key_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_customer.clear()

    def _get(self, key_id: str) -> DataKey | None:
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self._ttl:
            del self._entries[key_id]
            self._by_customer.pop(entry[1].customer_id, None)
            return None
        self._entries.move_to_end(key_id)
        return entry[1]


class DataKeyRing:
    """Data keys of every customer, backed by the store's ``data_keys`` table and a KeyProvider.

    ``cache_size`` unwrapped keys are kept for at most ``cache_ttl``; ``cache_size=0`` turns the
    cache off (every use unwraps again, as the cold benchmark measures).
    """

    def __init__(
        self,
        store: OperationalStore,
        provider: KeyProvider,
        *,
        clock: Clock | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        cache_ttl: timedelta = DEFAULT_CACHE_TTL,
    ) -> None:
        self._table = DataKeyTable(store, clock)
        self._provider = provider
        self._cache = _KeyCache(cache_size, cache_ttl.total_seconds())

    @property
    def provider(self) -> KeyProvider:
        return self._provider

    def keys_for(self, customer_ids: Iterable[str], *, actor: str) -> dict[str, DataKey]:
        """The data key of each customer, creating keys for customers who have none.

        Raises :class:`KeyShreddedError` when one of them was shredded: nothing new may be
        encrypted for an erased customer.
        """
        wanted = list(dict.fromkeys(customer_ids))
        found = {c: k for c in wanted if (k := self._cache.for_customer(c)) is not None}
        missing = [c for c in wanted if c not in found]
        if missing:
            for customer in missing:
                _check_customer_id(customer)
            rows = self._table.for_customers(missing)
            absent = [c for c in missing if c not in rows]
            if absent:
                self._table.insert_missing([self._new_key(c) for c in absent], actor=actor)
                rows.update(self._table.for_customers(absent))
            found.update({c: self._open(rows[c]) for c in missing})
        return found

    def erased_among(self, customer_ids: Iterable[str]) -> set[str]:
        """The customers among ``customer_ids`` whose data key was shredded (erased subjects).

        One store read for the customers whose key is not cached (a cached key is live)."""
        unknown = [c for c in dict.fromkeys(customer_ids) if self._cache.for_customer(c) is None]
        if not unknown:
            return set()
        rows = self._table.for_customers(unknown)
        return {c for c, row in rows.items() if row.wrapped_key is None}

    def key(self, key_id: str) -> DataKey:
        """The data key with this id (as named in a ciphertext)."""
        return self.keys_by_id([key_id])[key_id]

    def keys_by_id(self, key_ids: Iterable[str]) -> dict[str, DataKey]:
        """Data keys by id; :class:`UnknownKeyError` or :class:`KeyShreddedError` for a bad one."""
        found: dict[str, DataKey] = {}
        for key_id, key in self.lookup(key_ids).items():
            if isinstance(key, CryptoError):
                raise key
            found[key_id] = key
        return found

    def lookup(self, key_ids: Iterable[str]) -> dict[str, DataKey | CryptoError]:
        """Each data key by id, or the error that stands for it (unknown, shredded, corrupt),
        with one store read for all the keys not in the cache."""
        wanted = list(dict.fromkeys(key_ids))
        found: dict[str, DataKey | CryptoError] = {
            k: key for k in wanted if (key := self._cache.get(k)) is not None
        }
        missing = [k for k in wanted if k not in found]
        rows = self._table.by_key_ids(missing) if missing else {}
        for key_id in missing:
            row = rows.get(key_id)
            try:
                if row is None:
                    raise UnknownKeyError(f"data key {key_id} is not in this store")
                found[key_id] = self._open(row)
            except CryptoError as exc:
                found[key_id] = exc
        return found

    def status(self) -> dict[str, object]:
        """Master key versions and data key counts (no key material): for ``keys status``."""
        live = self._table.live_keys_per_kek()
        return {
            "active_kek": self._provider.active_kek(),
            "keks": {k: live.get(k, 0) for k in self._provider.kek_ids()},
            "data_keys_live": sum(live.values()),
            "data_keys_shredded": self._table.shredded_count(),
        }

    def shred(self, customer_id: str, *, actor: str) -> ShredRecord:
        """Destroy the customer's data key and blind indexes (crypto-shredding); audited."""
        self._cache.evict_customer(customer_id)
        record = self._table.shred(customer_id, actor=actor)
        self._cache.evict_customer(customer_id)
        return record

    def rotate(self, *, actor: str, retire: bool = True) -> RotationReport:
        """Add a master key version, re-wrap every live data key under it, retire the old ones.

        Field ciphertexts are not touched. Safe to re-run after a crash: see :meth:`rewrap`.
        """
        self._provider.add_kek()
        return self.rewrap(actor=actor, retire=retire)

    def rewrap(self, *, actor: str, retire: bool = True) -> RotationReport:
        """Re-wrap live data keys not yet under the active master key; then, with ``retire``,
        destroy master key versions that wrap nothing any more. One ``key.rotate`` audit entry."""
        active = self._provider.active_kek()
        rewrapped, after = 0, ""
        while batch := self._table.wrapped_not_under(active, after=after, limit=_REWRAP_BATCH):
            rewrapped += self._table.rewrap(active, [self._rewrapped(row, active) for row in batch])
            after = batch[-1].key_id
        retired = self._retire_unused(active) if retire else ()
        details = {"active_kek": active, "rewrapped": rewrapped, "retired": list(retired)}
        self._table.audit(actor, "key.rotate", details)
        return RotationReport(active, rewrapped, retired)

    def retire(self, kek_id: str, *, actor: str) -> None:
        """Destroy one master key version; refused while a live data key is wrapped under it."""
        in_use = self._table.live_keys_per_kek().get(kek_id, 0)
        if in_use:
            raise KeyManagementError(
                f"master key {kek_id} still wraps {in_use} data keys; run a rewrap first"
            )
        self._provider.retire_kek(kek_id)
        self._table.audit(actor, "key.retire", {"kek": kek_id})

    def forget_cached_keys(self) -> None:
        """Drop every unwrapped key from memory (e.g. after a batch, or in a cold benchmark)."""
        self._cache.clear()

    def _retire_unused(self, active: str) -> tuple[str, ...]:
        in_use = self._table.live_keys_per_kek()
        unused = [k for k in self._provider.kek_ids() if k != active and not in_use.get(k)]
        for kek_id in unused:
            self._provider.retire_kek(kek_id)
        return tuple(unused)

    def _new_key(self, customer_id: str) -> NewDataKey:
        key_id = new_id("dk")
        wrapped = self._provider.wrap(
            secrets.token_bytes(KEY_BYTES), _wrap_aad(key_id, customer_id)
        )
        return NewDataKey(key_id, customer_id, wrapped.kek_id, _text(wrapped.blob))

    def _open(self, row: DataKeyRow) -> DataKey:
        if row.wrapped_key is None:
            raise KeyShreddedError(
                f"data key {row.key_id} was shredded; the customer's encrypted values are gone"
            )
        aad = _wrap_aad(row.key_id, row.customer_id)
        secret = self._provider.unwrap(WrappedKey(row.kek_id, _blob(row)), aad)
        key = DataKey(row.key_id, row.customer_id, AESGCM(secret))
        self._cache.put(key)
        return key

    def _rewrapped(self, row: DataKeyRow, active: str) -> tuple[DataKeyRow, str]:
        aad = _wrap_aad(row.key_id, row.customer_id)
        secret = self._provider.unwrap(WrappedKey(row.kek_id, _blob(row)), aad)
        wrapped = self._provider.wrap(secret, aad)
        if wrapped.kek_id != active:
            raise KeyManagementError(
                f"the active master key changed during a rewrap ({active} -> {wrapped.kek_id}); "
                "run the rewrap again"
            )
        return row, _text(wrapped.blob)


def _check_customer_id(customer_id: str) -> None:
    if not customer_id or customer_id != customer_id.strip():
        raise ValidationError("customer_id", "required", "customer_id: must be a non-empty key")
    DataKeyTable.check_customer_id(customer_id)


def _wrap_aad(key_id: str, customer_id: str) -> bytes:
    return bound_parts(_WRAP_LABEL, key_id, customer_id)


def _text(blob: bytes) -> str:
    return base64.b64encode(blob).decode("ascii")


def _blob(row: DataKeyRow) -> bytes:
    try:
        return base64.b64decode(row.wrapped_key or "", validate=True)
    except binascii.Error:
        raise DecryptionError(f"data key {row.key_id}: the stored wrapped key is corrupt") from None
