"""Field encryption on SQLite and PostgreSQL: round trips, binding to row and column, bad input,
crypto-shredding."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from custodia.core.clock import FrozenClock
from custodia.core.errors import ValidationError
from custodia.privacy.blind_index import BlindIndexer
from custodia.privacy.data_keys import DataKeyRing
from custodia.privacy.errors import (
    CiphertextFormatError,
    CryptoError,
    DecryptionError,
    KeyShreddedError,
    PrivacyError,
    UnknownKeyError,
)
from custodia.privacy.field_crypto import FieldCipher, is_ciphertext
from custodia.privacy.keys import MasterKeys
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_keys import BlindIndexTable
from custodia.storage.store_schema import data_keys

CLOCK = FrozenClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
PHONE = "+8613812345678"
NAME = "张三 Zhang San"
WHERE = {"table": "profiles", "row_key": "prf_1", "column": "phone"}


@pytest.fixture
def keys() -> MasterKeys:
    return MasterKeys.generate(CLOCK)


@pytest.fixture
def ring(operational_store: OperationalStore, keys: MasterKeys) -> DataKeyRing:
    return DataKeyRing(operational_store, keys, clock=CLOCK)


@pytest.fixture
def cipher(ring: DataKeyRing) -> FieldCipher:
    return FieldCipher(ring)


def _encrypt(cipher: FieldCipher, value: str = PHONE, customer: str = "prf_1") -> str:
    return cipher.encrypt(customer, value, **WHERE, actor="loader")


def _safe(message: str, *secrets: str) -> bool:
    return not any(secret in message for secret in secrets)


def test_values_round_trip_and_ciphertexts_are_self_describing_and_randomized(
    cipher: FieldCipher, operational_store: OperationalStore
) -> None:
    first, second = _encrypt(cipher), _encrypt(cipher)

    assert re.fullmatch(r"enc:v1:dk_[0-9a-f]{32}:[A-Za-z0-9_=-]+", first)
    assert first.isascii() and is_ciphertext(first)
    assert first != second, "a fresh nonce each time: equal values do not look equal"
    assert first.split(":")[2] == second.split(":")[2], "one data key per customer"
    assert cipher.decrypt(first, **WHERE) == PHONE
    assert cipher.decrypt(_encrypt(cipher, NAME), **WHERE) == NAME
    with operational_store.read() as conn:
        assert conn.execute(select(data_keys.c.customer_id)).scalars().all() == ["prf_1"]


def test_each_customer_has_their_own_data_key(cipher: FieldCipher) -> None:
    mine, theirs = _encrypt(cipher, customer="prf_1"), _encrypt(cipher, customer="prf_2")
    assert mine.split(":")[2] != theirs.split(":")[2]


@pytest.mark.parametrize(
    "moved",
    [
        {"table": "profiles", "row_key": "prf_2", "column": "phone"},
        {"table": "profiles", "row_key": "prf_1", "column": "email"},
        {"table": "orders", "row_key": "prf_1", "column": "phone"},
    ],
    ids=["other-row", "other-column", "other-table"],
)
def test_a_ciphertext_moved_to_another_place_does_not_decrypt(
    cipher: FieldCipher, moved: dict[str, str]
) -> None:
    text = _encrypt(cipher)
    with pytest.raises(DecryptionError) as caught:
        cipher.decrypt(text, **moved)
    message = str(caught.value)
    assert "failed authentication" in message
    assert _safe(message, PHONE, text.split(":")[3])


def test_a_tampered_ciphertext_is_refused_without_disclosing_anything(cipher: FieldCipher) -> None:
    text = _encrypt(cipher)
    head, payload = text.rsplit(":", 1)
    body = bytearray(base64.urlsafe_b64decode(payload))
    body[14] ^= 0x01
    tampered = f"{head}:{base64.urlsafe_b64encode(bytes(body)).decode()}"

    with pytest.raises(DecryptionError) as caught:
        cipher.decrypt(tampered, **WHERE)
    assert _safe(str(caught.value), PHONE, payload)


def test_swapping_in_another_customers_key_id_is_refused(cipher: FieldCipher) -> None:
    mine = _encrypt(cipher, customer="prf_1")
    other_key = _encrypt(cipher, customer="prf_2").split(":")[2]
    _, version, _, payload = mine.split(":")
    with pytest.raises(DecryptionError):
        cipher.decrypt(f"enc:{version}:{other_key}:{payload}", **WHERE)


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (PHONE, CiphertextFormatError, "not a Custodia field ciphertext"),
        ("enc:v2:dk_" + "0" * 32 + ":AAAA", CiphertextFormatError, "format v2 is not supported"),
        ("enc:v1:dk_" + "0" * 32 + ":AAAA", CiphertextFormatError, "too short"),
        ("enc:v1:dk_" + "0" * 32 + ":AAA", CiphertextFormatError, "not base64"),
        ("enc:v1:dk_" + "0" * 32 + ":" + "A" * 40, UnknownKeyError, "not in this store"),
    ],
    ids=["plaintext", "future-version", "short", "bad-base64", "unknown-key"],
)
def test_bad_ciphertexts_get_a_clear_privacy_error(
    cipher: FieldCipher, text: str, error: type[CryptoError], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        cipher.decrypt(text, **WHERE)
    assert isinstance(caught.value, PrivacyError)
    assert _safe(str(caught.value), PHONE)


def test_columns_keep_positions_and_missing_values(cipher: FieldCipher) -> None:
    customers = ["prf_1", "prf_2", "prf_1", "prf_3"]
    rows = ["r1", "r2", "r3", "r4"]
    values = [PHONE, None, "+8613900001111", NAME]
    texts = cipher.encrypt_column(
        "profiles", "phone", customer_ids=customers, row_keys=rows, values=values, actor="loader"
    )

    assert texts[1] is None and all(is_ciphertext(t) for t in (texts[0], texts[2], texts[3]))
    plain = cipher.decrypt_column("profiles", "phone", row_keys=rows, ciphertexts=texts)
    assert plain == values
    with pytest.raises(DecryptionError):
        cipher.decrypt_column("profiles", "phone", row_keys=rows[::-1], ciphertexts=texts)
    with pytest.raises(ValidationError, match="differ in length"):
        cipher.decrypt_column("profiles", "phone", row_keys=rows[:2], ciphertexts=texts)


def test_shredding_makes_every_ciphertext_of_the_customer_unreadable(
    cipher: FieldCipher, ring: DataKeyRing, operational_store: OperationalStore
) -> None:
    mine = [_encrypt(cipher, value) for value in (PHONE, NAME)]
    other = _encrypt(cipher, customer="prf_2")

    record = ring.shred("prf_1", actor="privacy-officer")

    assert (record.keys_shredded, record.actor) == (1, "privacy-officer")
    for text in mine:
        with pytest.raises(KeyShreddedError, match="was shredded") as caught:
            cipher.decrypt(text, **WHERE)
        assert _safe(str(caught.value), PHONE, NAME)
    assert cipher.decrypt(other, **WHERE) == PHONE, "other customers are untouched"
    fresh = FieldCipher(DataKeyRing(operational_store, ring.provider, clock=CLOCK))
    with pytest.raises(KeyShreddedError):
        fresh.decrypt(mine[0], **WHERE)
    with pytest.raises(KeyShreddedError):
        _encrypt(cipher), "nothing new is encrypted for an erased customer"
    with operational_store.read() as conn:
        row = conn.execute(select(data_keys).where(data_keys.c.customer_id == "prf_1")).one()
    assert row.wrapped_key is None
    assert (row.shredded_at, row.shredded_by) == (CLOCK.now(), "privacy-officer")


def test_a_shredded_column_can_read_as_missing(cipher: FieldCipher, ring: DataKeyRing) -> None:
    texts = [_encrypt(cipher, customer="prf_1"), _encrypt(cipher, customer="prf_2")]
    ring.shred("prf_2", actor="privacy-officer")
    rows = ["prf_1", "prf_1"]

    read = cipher.decrypt_column(
        "profiles", "phone", row_keys=rows, ciphertexts=texts, shredded_as_none=True
    )
    assert read == [PHONE, None]
    with pytest.raises(KeyShreddedError):
        cipher.decrypt_column("profiles", "phone", row_keys=rows, ciphertexts=texts)


def test_another_process_forgets_a_shredded_key_within_the_cache_ttl(
    operational_store: OperationalStore, keys: MasterKeys
) -> None:
    loader = DataKeyRing(operational_store, keys, clock=CLOCK, cache_ttl=timedelta(0))
    admin = DataKeyRing(operational_store, keys, clock=CLOCK)
    text = FieldCipher(loader).encrypt("prf_1", PHONE, **WHERE, actor="loader")
    assert FieldCipher(loader).decrypt(text, **WHERE) == PHONE

    admin.shred("prf_1", actor="privacy-officer")
    with pytest.raises(KeyShreddedError):
        FieldCipher(loader).decrypt(text, **WHERE)


def test_shredding_deletes_blind_indexes_and_is_audited_without_personal_data(
    cipher: FieldCipher, ring: DataKeyRing, operational_store: OperationalStore, keys: MasterKeys
) -> None:
    _encrypt(cipher)
    index = BlindIndexer(keys)
    digests = BlindIndexTable(operational_store)
    digests.add([("prf_1", "phone", index.digest("phone", PHONE))])
    digests.add([("prf_2", "phone", index.digest("phone", "+8613900001111"))])

    record = ring.shred("prf_1", actor="privacy-officer")

    assert record.blind_indexes_deleted == 1
    assert digests.of_customer("prf_1") == []
    assert len(digests.of_customer("prf_2")) == 1
    entries = [e for e in AuditLog(operational_store).tail() if e.action == "key.shred"]
    assert len(entries) == 1
    assert entries[0].subject_ref == "prf_1"
    assert entries[0].details == {"keys": 1, "blind_indexes": 1}
    assert AuditLog(operational_store).verify().ok
    assert ring.shred("prf_1", actor="privacy-officer").keys_shredded == 0


def test_a_data_key_row_moved_to_another_customer_does_not_unwrap(
    cipher: FieldCipher, operational_store: OperationalStore, keys: MasterKeys
) -> None:
    _encrypt(cipher, customer="prf_1")
    _encrypt(cipher, customer="prf_2")
    with operational_store.begin() as conn:
        rows = {r.customer_id: r for r in conn.execute(select(data_keys))}
        conn.execute(
            data_keys.update()
            .where(data_keys.c.customer_id == "prf_2")
            .values(wrapped_key=rows["prf_1"].wrapped_key)
        )
    fresh = DataKeyRing(operational_store, keys, clock=CLOCK)
    with pytest.raises(DecryptionError, match="failed authentication"):
        fresh.keys_for(["prf_2"], actor="loader")


@pytest.mark.parametrize("customer", ["", " prf_1", "p" * 65])
def test_a_missing_or_malformed_customer_id_gets_no_key(cipher: FieldCipher, customer: str) -> None:
    with pytest.raises(ValidationError, match="customer_id"):
        _encrypt(cipher, customer=customer)


def test_a_small_cache_still_serves_every_customer(
    operational_store: OperationalStore, keys: MasterKeys
) -> None:
    cipher = FieldCipher(DataKeyRing(operational_store, keys, clock=CLOCK, cache_size=2))
    customers = [f"prf_{n}" for n in range(5)]
    texts = cipher.encrypt_column(
        "t", "c", customer_ids=customers, row_keys=customers, values=customers, actor="loader"
    )
    assert cipher.decrypt_column("t", "c", row_keys=customers, ciphertexts=texts) == customers
