"""Properties of field encryption over generated values (hypothesis), on a SQLite store."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custodia.privacy.data_keys import DataKeyRing
from custodia.privacy.errors import CryptoError
from custodia.privacy.field_crypto import FieldCipher, is_ciphertext
from custodia.privacy.keys import MasterKeys
from custodia.storage.store import OperationalStore

names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)
places = st.sampled_from(["prf_1", "prf_2", "prf_3"])


@pytest.fixture(scope="module")
def cipher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FieldCipher]:
    store = OperationalStore.sqlite(tmp_path_factory.mktemp("crypto") / "store.db")
    store.migrate()
    yield FieldCipher(DataKeyRing(store, MasterKeys.generate()))
    store.dispose()


@settings(max_examples=60, deadline=None)
@given(value=names, customer=places, row=places)
def test_any_text_round_trips(cipher: FieldCipher, value: str, customer: str, row: str) -> None:
    text = cipher.encrypt(customer, value, table="t", row_key=row, column="c", actor="test")
    assert is_ciphertext(text) and text.isascii()
    assert cipher.decrypt(text, table="t", row_key=row, column="c") == value


@settings(max_examples=60, deadline=None)
@given(value=names, position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_any_changed_byte_is_refused_never_misread(
    cipher: FieldCipher, value: str, position: int, flip: int
) -> None:
    text = cipher.encrypt("prf_1", value, table="t", row_key="r", column="c", actor="test")
    head, payload = text.rsplit(":", 1)
    body = bytearray(base64.urlsafe_b64decode(payload))
    body[position % len(body)] ^= flip
    changed = f"{head}:{base64.urlsafe_b64encode(bytes(body)).decode()}"
    with pytest.raises(CryptoError):
        cipher.decrypt(changed, table="t", row_key="r", column="c")


def test_ciphertexts_survive_a_delta_string_column(cipher: FieldCipher, tmp_path: Path) -> None:
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    rows = ["r1", "r2", "r3"]
    values: list[str | None] = ["+8613812345678", "张三", None]
    texts = cipher.encrypt_column(
        "profiles", "l3", customer_ids=rows, row_keys=rows, values=values, actor="test"
    )
    table = pa.table({"row_key": rows, "l3": pa.array(texts, pa.string())})
    write_deltalake(str(tmp_path / "profiles"), table)

    back = DeltaTable(str(tmp_path / "profiles")).to_pyarrow_table().sort_by("row_key")
    assert back.column("l3").to_pylist() == texts
    read = cipher.decrypt_column(
        "profiles", "l3", row_keys=rows, ciphertexts=back.column("l3").to_pylist()
    )
    assert read == values
