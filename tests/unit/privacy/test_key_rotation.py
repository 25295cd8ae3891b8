"""Master key rotation: every data key re-wrapped, data untouched, the old master key retired."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from custodia.core.clock import FrozenClock
from custodia.privacy.data_keys import DataKeyRing
from custodia.privacy.errors import KeyManagementError, UnknownKeyError
from custodia.privacy.field_crypto import FieldCipher
from custodia.privacy.keys import FileKeyProvider, MasterKeys
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import data_keys

CLOCK = FrozenClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
CUSTOMERS = [f"prf_{n:04d}" for n in range(1, 1202)]  # more than two re-wrap batches


def _encrypt_all(cipher: FieldCipher) -> list[str | None]:
    return cipher.encrypt_column(
        "profiles",
        "phone",
        customer_ids=CUSTOMERS,
        row_keys=CUSTOMERS,
        values=[f"+86138{n:08d}" for n in range(len(CUSTOMERS))],
        actor="loader",
    )


def _wrapped(store: OperationalStore) -> dict[str, tuple[str, str | None]]:
    with store.read() as conn:
        rows = conn.execute(select(data_keys.c.key_id, data_keys.c.kek_id, data_keys.c.wrapped_key))
        return {key_id: (kek, wrapped) for key_id, kek, wrapped in rows}


def test_rotation_rewraps_every_key_retires_the_old_one_and_leaves_data_alone(
    operational_store: OperationalStore,
) -> None:
    keys = MasterKeys.generate(CLOCK)
    ring = DataKeyRing(operational_store, keys, clock=CLOCK)
    texts = _encrypt_all(FieldCipher(ring))
    ring.shred(CUSTOMERS[0], actor="privacy-officer")
    before = _wrapped(operational_store)

    report = ring.rotate(actor="admin")

    after = _wrapped(operational_store)
    assert (report.active_kek, report.rewrapped, report.retired) == ("kek-2", 1200, ("kek-1",))
    assert keys.kek_ids() == ["kek-2"]
    live = [key_id for key_id, (_, wrapped) in before.items() if wrapped is not None]
    assert all(after[k][0] == "kek-2" and after[k][1] != before[k][1] for k in live)
    shredded = next(k for k, (_, wrapped) in before.items() if wrapped is None)
    assert after[shredded] == before[shredded], "a shredded key stays destroyed"

    cold = FieldCipher(DataKeyRing(operational_store, keys, clock=CLOCK))
    plain = cold.decrypt_column(
        "profiles", "phone", row_keys=CUSTOMERS, ciphertexts=texts, shredded_as_none=True
    )
    assert plain[0] is None
    assert plain[1:] == [f"+86138{n:08d}" for n in range(1, len(CUSTOMERS))]
    rotations = [e for e in AuditLog(operational_store).tail() if e.action == "key.rotate"]
    assert [e.details for e in rotations] == [
        {"active_kek": "kek-2", "rewrapped": 1200, "retired": ["kek-1"]}
    ]


def test_a_retired_master_key_no_longer_unwraps_an_old_copy_of_a_data_key(
    operational_store: OperationalStore,
) -> None:
    keys = MasterKeys.generate(CLOCK)
    ring = DataKeyRing(operational_store, keys, clock=CLOCK)
    text = FieldCipher(ring).encrypt(
        "prf_1", "+8613812345678", table="t", row_key="r", column="c", actor="loader"
    )
    backup = _wrapped(operational_store)
    ring.rotate(actor="admin")

    with operational_store.begin() as conn:  # restore the store from a backup made before
        for key_id, (kek, wrapped) in backup.items():
            statement = data_keys.update().where(data_keys.c.key_id == key_id)
            conn.execute(statement.values(kek_id=kek, wrapped_key=wrapped))
    cold = FieldCipher(DataKeyRing(operational_store, keys, clock=CLOCK))
    with pytest.raises(UnknownKeyError, match="kek-1 is not held"):
        cold.decrypt(text, table="t", row_key="r", column="c")


def test_retiring_a_master_key_that_still_wraps_keys_is_refused(
    operational_store: OperationalStore,
) -> None:
    keys = MasterKeys.generate(CLOCK)
    ring = DataKeyRing(operational_store, keys, clock=CLOCK)
    ring.keys_for(["prf_1"], actor="loader")
    keys.add_kek()  # a crash right after adding the new version, before re-wrapping

    with pytest.raises(KeyManagementError, match="kek-1 still wraps 1 data keys"):
        ring.retire("kek-1", actor="admin")
    report = ring.rewrap(actor="admin", retire=False)
    assert (report.rewrapped, report.retired) == (1, ())
    ring.retire("kek-1", actor="admin")
    assert keys.kek_ids() == ["kek-2"]
    assert ring.rewrap(actor="admin").rewrapped == 0, "re-running is harmless"


def test_rotation_through_the_key_file_is_picked_up_by_a_running_loader(
    operational_store: OperationalStore, tmp_path: Path
) -> None:
    path = tmp_path / "keys" / "master-keys.json"
    loader = DataKeyRing(
        operational_store, FileKeyProvider.open_or_create(path, CLOCK), clock=CLOCK
    )
    admin = DataKeyRing(operational_store, FileKeyProvider(path, CLOCK), clock=CLOCK)
    text = FieldCipher(loader).encrypt(
        "prf_1", "+8613812345678", table="t", row_key="r", column="c", actor="loader"
    )

    admin.rotate(actor="admin")
    loader.forget_cached_keys()

    assert FieldCipher(loader).decrypt(text, table="t", row_key="r", column="c") == "+8613812345678"
    loader.keys_for(["prf_2"], actor="loader")
    assert {kek for kek, _ in _wrapped(operational_store).values()} == {"kek-2"}
