"""Encryption at rest of highly sensitive (L3) columns: sealed on every lake write, opened on read.

Which columns: every string column of a *subject table* whose tier is L3 under the workspace's
classification policy (``core.tables`` floors, raised by ``HOME/privacy/classification.yaml``).
A subject table is one whose rows each belong to one data subject, named by its key:

=========================  ============  ===========================================
table                      subject key   whose data key seals the row
=========================  ============  ===========================================
``customer_records``       record_id     the source record's (one key per record)
``customer_records_filled``  record_id   the same record's key
``profiles``               profile_id    the golden profile's
=========================  ============  ===========================================

A record gets its own data key because records are stored before identity resolution knows
whose they are; an erasure shreds the keys of every record of the person and of their profile
(:func:`subject_ids_of`). Each value is bound (associated data) to its table, column and row key.

- :meth:`ColumnSealer.seal` is the lakehouse's write hook: it replaces the L3 values of a batch
  with ciphertexts (``enc:v1:...``), creating data keys as needed. A row whose subject was erased
  (key shredded) is stored with its L3 values empty: nothing new is encrypted for an erased
  subject, and the load goes on.
- :meth:`ColumnSealer.open` is the query engine's read hook: every personal string column of a
  subject table goes through it (not only the L3 ones of today's policy, so values sealed under
  an earlier policy still open). Plain text passes through untouched; ciphertexts of a shredded
  key read as missing (the person was erased, also in Delta history and time travel).

Example::

    sealer = ColumnSealer(policy_file.current, lambda: FieldCipher(ring))
    stored = sealer.seal("profiles", rows)                 # resident_id, credit_band encrypted
    sealer.open("profiles", "resident_id", keys, stored["resident_id"])   # plain again
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from custodia.core.tables import CUSTOMER_RECORDS, CUSTOMER_RECORDS_FILLED, PROFILES, TableSpec
from custodia.core.types import Tier
from custodia.privacy.classification import ClassificationPolicy
from custodia.privacy.errors import CryptoError
from custodia.privacy.field_crypto import CIPHERTEXT_PREFIX, FieldCipher

__all__ = [
    "SEAL_ACTOR",
    "SUBJECT_TABLES",
    "TRAITS_TABLE",
    "ColumnSealer",
    "SealedTable",
    "subject_ids_of",
]

SUBJECT_TABLES: Final[tuple[tuple[TableSpec, str], ...]] = (
    (CUSTOMER_RECORDS, "record_id"),
    (CUSTOMER_RECORDS_FILLED, "record_id"),
    (PROFILES, "profile_id"),
)
"""Tables whose rows each belong to one subject, and the column naming the subject."""

_log = logging.getLogger(__name__)

SEAL_ACTOR: Final = "pipeline:seal"
TRAITS_TABLE: Final = "profile_registry"
"""Name bound into sealed golden-trait values kept in the operational store's registry."""
_ENC_PREFIX: Final = CIPHERTEXT_PREFIX.split(":", 1)[0] + ":"


@dataclass(frozen=True, slots=True)
class SealedTable:
    """One subject table: its key, the columns sealed on write, the columns opened on read."""

    table: str
    row_key: str
    sealed: tuple[str, ...]
    opened: tuple[str, ...]


def subject_ids_of(*, profile_ids: list[str], record_ids: list[str]) -> list[str]:
    """The data-key subjects of one person: their profiles and every record of theirs."""
    return sorted({*profile_ids, *record_ids})


class ColumnSealer:
    """Seals L3 columns of subject tables on write and opens them on read.

    ``policy`` is asked on every write (a raised tier applies from the next write on);
    ``cipher`` is called once, on first use, so a workspace that never writes or reads a sealed
    value never opens its key file.
    """

    def __init__(
        self,
        policy: Callable[[], ClassificationPolicy],
        cipher: Callable[[], FieldCipher],
        *,
        on_refused: Callable[[str, str, CryptoError], None] | None = None,
    ) -> None:
        """``on_refused(table, column, error)`` hears of every sealed value that failed to open
        (altered, moved to another row, unknown key): the workspace audits it."""
        self._policy = policy
        self._make_cipher = cipher
        self._cipher: FieldCipher | None = None
        self._on_refused = on_refused

    def tables(self) -> dict[str, SealedTable]:
        """Each subject table with the columns sealed under the policy in force now."""
        policy = self._policy()
        tables = {}
        for spec, key in SUBJECT_TABLES:
            opened = _opened_columns(spec, key)
            sealed = tuple(c for c in opened if policy.tier(spec.name, c) is Tier.L3)
            tables[spec.name] = SealedTable(spec.name, key, sealed, opened)
        return tables

    @staticmethod
    def opened_columns(table: str) -> tuple[str, tuple[str, ...]] | None:
        """(row key, columns) the engine reads through :meth:`open` for ``table``, if any:
        every personal string column, whatever the policy, so values sealed under an earlier
        policy still open."""
        for spec, key in SUBJECT_TABLES:
            if spec.name == table:
                return key, _opened_columns(spec, key)
        return None

    def seal(self, table: str, rows: pa.Table) -> pa.Table:
        """``rows`` with their L3 values encrypted (the lake's write hook)."""
        entry = self.tables().get(table) if rows.num_rows else None
        if entry is None:
            return rows
        present = [c for c in entry.sealed if c in rows.column_names]
        if not present or entry.row_key not in rows.column_names:
            return rows
        keys = rows.column(entry.row_key).to_pylist()
        columns = {c: rows.column(c).to_pylist() for c in present}
        subjects = {k for c in present for k, v in zip(keys, columns[c], strict=True) if v}
        cipher = self._get_cipher()
        erased = cipher.erased_subjects(sorted(subjects))
        for name in present:
            stored = columns[name]
            plain = [
                None if key in erased or _is_sealed(value) else value
                for key, value in zip(keys, stored, strict=True)
            ]
            sealed = cipher.encrypt_column(
                table, name, customer_ids=keys, row_keys=keys, values=plain, actor=SEAL_ACTOR
            )
            kept = [  # a value sealed already (re-written as read) stays as it is
                new if old is None or not _is_sealed(old) or key in erased else old
                for key, old, new in zip(keys, stored, sealed, strict=True)
            ]
            index = rows.column_names.index(name)
            rows = rows.set_column(index, name, pa.array(kept, pa.string()))
        return rows

    def open(self, table: str, column: str, row_keys: pa.Array, values: pa.Array) -> pa.Array:
        """Plain values of ``values`` (the engine's read hook); shredded keys read as null."""
        texts = values.cast(pa.string()) if values.type != pa.string() else values
        flags = pc.starts_with(texts, _ENC_PREFIX)
        if not pc.any(flags).as_py():
            return texts
        keys = row_keys.cast(pa.string()).to_pylist()
        items = texts.to_pylist()
        sealed = [i for i, text in enumerate(items) if text is not None and _is_sealed(text)]
        try:
            opened = self._get_cipher().decrypt_column(
                table,
                column,
                row_keys=[keys[i] for i in sealed],
                ciphertexts=[items[i] for i in sealed],
                shredded_as_none=True,
            )
        except CryptoError as exc:
            self._refused(table, column, exc)
            raise
        for i, value in zip(sealed, opened, strict=True):
            items[i] = value
        return pa.array(items, pa.string())

    def seal_traits(self, profile_id: str, traits: dict[str, Any] | None) -> dict[str, Any] | None:
        """Golden traits (``{attribute: {value, conflicts: [{value, ...}]}}``) as the store
        keeps them: the values of attributes sealed in ``profiles`` encrypted under the
        profile's key, bound to the profile and attribute."""
        return self.seal_traits_of({profile_id: traits})[profile_id]

    def seal_traits_of(
        self, traits_of: Mapping[str, dict[str, Any] | None]
    ) -> dict[str, dict[str, Any] | None]:
        """:meth:`seal_traits` of many profiles at once: one key read (and one creation of
        the missing keys) per sealed attribute for all of them, not one per profile."""
        sealed = set(self.tables()[PROFILES.name].sealed)
        plain: dict[tuple[str, str, str], str] = {}
        for profile_id, traits in traits_of.items():
            for name in sealed.intersection(traits or ()):
                assert traits is not None
                self._map_trait(traits[name], partial(_note_plain, plain, profile_id, name))
        ciphertexts = self._seal_values(list(plain))
        out = dict(traits_of)
        for profile_id, traits in traits_of.items():
            if not traits or not sealed.intersection(traits):
                continue
            changed = dict(traits)
            for name in sealed.intersection(traits):
                swap = partial(_swap_sealed, ciphertexts, profile_id, name)
                changed[name] = self._map_trait(changed[name], swap)
            out[profile_id] = changed
        return out

    def open_traits(self, profile_id: str, traits: dict[str, Any] | None) -> dict[str, Any] | None:
        """Golden traits with sealed values opened (an erased profile's read as missing)."""
        if not traits:
            return traits
        out = dict(traits)
        for name, trait in traits.items():
            out[name] = self._map_trait(trait, partial(self._open_one, profile_id, name))
        return out

    @staticmethod
    def _map_trait(trait: Any, change: Callable[[Any], Any]) -> Any:
        if not isinstance(trait, dict) or "value" not in trait:
            return trait
        out = {**trait, "value": change(trait["value"])}
        if isinstance(trait.get("conflicts"), list):
            out["conflicts"] = [
                {**c, "value": change(c.get("value"))} if isinstance(c, dict) else c
                for c in trait["conflicts"]
            ]
        return out

    def _seal_values(self, items: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
        """Ciphertexts of (profile, attribute, value) items, one cipher call per attribute."""
        out: dict[tuple[str, str, str], str] = {}
        for column in sorted({column for _, column, _ in items}):
            mine = [item for item in items if item[1] == column]
            owners = [profile_id for profile_id, _, _ in mine]
            sealed = self._get_cipher().encrypt_column(
                TRAITS_TABLE, column, customer_ids=owners, row_keys=owners,
                values=[value for _, _, value in mine], actor=SEAL_ACTOR,
            )  # fmt: skip
            out.update({item: text for item, text in zip(mine, sealed, strict=True) if text})
        return out

    def _open_one(self, profile_id: str, column: str, value: Any) -> Any:
        """The plain value; a ciphertext that cannot be opened (unknown key, altered) stays
        sealed, for the views to show as encrypted, and is logged without its value."""
        if not _is_sealed(value):
            return value
        try:
            return self._get_cipher().decrypt_column(
                TRAITS_TABLE, column, row_keys=[profile_id], ciphertexts=[value],
                shredded_as_none=True,
            )[0]  # fmt: skip
        except CryptoError as exc:
            _log.warning("golden trait %s of a profile stays sealed: %s", column, exc)
            self._refused(TRAITS_TABLE, column, exc)
            return value

    def _refused(self, table: str, column: str, error: CryptoError) -> None:
        if self._on_refused is not None:
            self._on_refused(table, column, error)

    def _get_cipher(self) -> FieldCipher:
        if self._cipher is None:
            self._cipher = self._make_cipher()
        return self._cipher


def _opened_columns(spec: TableSpec, key: str) -> tuple[str, ...]:
    return tuple(
        c.name for c in spec.columns if c.personal and c.name != key and pa.types.is_string(c.type)
    )


def _note_plain(
    plain: dict[tuple[str, str, str], str], profile_id: str, column: str, value: Any
) -> Any:
    """Collects a trait value still to seal (the walk over a trait changes nothing)."""
    if isinstance(value, str) and not _is_sealed(value):
        plain[(profile_id, column, value)] = value
    return value


def _swap_sealed(
    sealed: dict[tuple[str, str, str], str], profile_id: str, column: str, value: Any
) -> Any:
    if not isinstance(value, str):
        return value
    return sealed.get((profile_id, column, value), value)


def _is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(CIPHERTEXT_PREFIX)
