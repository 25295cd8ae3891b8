"""Master keys: wrapping, versions, retirement, the key file and its permissions."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from custodia.core.clock import FrozenClock
from custodia.privacy.errors import DecryptionError, KeyManagementError, UnknownKeyError
from custodia.privacy.keys import FileKeyProvider, KeyProvider, MasterKeys, WrappedKey

DEK = bytes(range(32))
CLOCK = FrozenClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))


def test_a_wrapped_key_unwraps_only_with_the_same_associated_data() -> None:
    keys = MasterKeys.generate(CLOCK)
    wrapped = keys.wrap(DEK, b"dk_1|prf_1")

    assert wrapped.kek_id == "kek-1"
    assert "keks=" not in repr(keys) and "index_secret=" not in repr(keys)
    assert DEK not in wrapped.blob
    assert keys.unwrap(wrapped, b"dk_1|prf_1") == DEK
    with pytest.raises(DecryptionError, match="kek-1 failed authentication"):
        keys.unwrap(wrapped, b"dk_1|prf_2")


def test_a_flipped_bit_in_a_wrapped_key_is_refused() -> None:
    keys = MasterKeys.generate(CLOCK)
    blob = bytearray(keys.wrap(DEK, b"aad").blob)
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        keys.unwrap(WrappedKey("kek-1", bytes(blob)), b"aad")


def test_old_versions_unwrap_until_retired_and_the_active_one_cannot_be_retired() -> None:
    keys = MasterKeys.generate(CLOCK)
    old = keys.wrap(DEK, b"aad")

    assert keys.add_kek() == "kek-2"
    assert keys.wrap(DEK, b"aad").kek_id == "kek-2"
    assert keys.unwrap(old, b"aad") == DEK
    with pytest.raises(KeyManagementError, match="kek-2 is active"):
        keys.retire_kek("kek-2")

    keys.retire_kek("kek-1")
    assert keys.kek_ids() == ["kek-2"]
    with pytest.raises(UnknownKeyError, match="kek-1 is not held"):
        keys.unwrap(old, b"aad")
    with pytest.raises(UnknownKeyError):
        keys.retire_kek("kek-1")
    assert keys.add_kek() == "kek-3", "a retired version number is never reused"


def test_keys_derived_from_a_secret_are_the_same_in_every_process() -> None:
    secret = "a configured secret of at least thirty-two bytes"
    first, second = MasterKeys.from_secret(secret), MasterKeys.from_secret(secret)

    assert second.unwrap(first.wrap(DEK, b"aad"), b"aad") == DEK
    assert first.index_key("phone") == second.index_key("phone")
    assert first.index_key("phone") != first.index_key("email")
    assert first.index_key("phone") != MasterKeys.from_secret(secret + "!").index_key("phone")
    with pytest.raises(KeyManagementError, match="at least 32 bytes"):
        MasterKeys.from_secret("short")


def test_index_keys_do_not_change_when_the_kek_rotates() -> None:
    keys = MasterKeys.generate(CLOCK)
    before = keys.index_key("phone")
    keys.add_kek()
    keys.retire_kek("kek-1")
    assert keys.index_key("phone") == before
    with pytest.raises(KeyManagementError, match="purpose"):
        keys.index_key("Phone Number")


def test_key_file_is_created_private_and_survives_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "ws" / "keys" / "master-keys.json"
    provider = FileKeyProvider.open_or_create(path, CLOCK)

    assert isinstance(provider, KeyProvider)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    wrapped = provider.wrap(DEK, b"aad")
    again = FileKeyProvider.open_or_create(path, CLOCK)
    assert again.unwrap(wrapped, b"aad") == DEK
    assert again.index_key("email") == provider.index_key("email")


def test_a_workspace_keeps_its_master_keys_under_home_keys(tmp_path: Path) -> None:
    provider = FileKeyProvider.for_workspace(tmp_path, CLOCK)
    assert provider.path == tmp_path / "keys" / "master-keys.json"
    assert FileKeyProvider.for_workspace(tmp_path, CLOCK).index_key("phone") == (
        provider.index_key("phone")
    )


def test_a_rotation_in_one_process_is_seen_by_another(tmp_path: Path) -> None:
    path = tmp_path / "master-keys.json"
    loader = FileKeyProvider.open_or_create(path, CLOCK)
    admin = FileKeyProvider(path, CLOCK)

    assert admin.add_kek() == "kek-2"
    wrapped_by_admin = admin.wrap(DEK, b"aad")

    assert loader.active_kek() == "kek-2"
    assert loader.wrap(DEK, b"aad").kek_id == "kek-2"
    assert loader.unwrap(wrapped_by_admin, b"aad") == DEK
    admin.retire_kek("kek-1")
    assert loader.kek_ids() == ["kek-2"]
    assert json.loads(path.read_text())["retired"] == {"kek-1": CLOCK.now().isoformat()}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "master-keys.json"
    FileKeyProvider.open_or_create(path, CLOCK)
    path.chmod(0o644)
    with pytest.raises(KeyManagementError, match=r"readable by other users \(mode 644\)"):
        FileKeyProvider(path, CLOCK)


def test_a_missing_or_broken_key_file_is_a_clear_error_without_key_bytes(tmp_path: Path) -> None:
    path = tmp_path / "master-keys.json"
    with pytest.raises(KeyManagementError, match="does not exist"):
        FileKeyProvider(path)

    FileKeyProvider.open_or_create(path, CLOCK)
    doc = json.loads(path.read_text())
    secret = doc["index_secret"]
    doc["keks"]["kek-1"]["key"] = base64.b64encode(b"short").decode()
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyManagementError) as caught:
        FileKeyProvider(path)
    assert "32-byte" in str(caught.value)
    assert secret not in str(caught.value)

    path.write_text("{not json")
    with pytest.raises(KeyManagementError, match="not JSON"):
        FileKeyProvider(path)
    path.write_text(json.dumps({"format": "custodia-master-keys/v1", "keks": 3}))
    with pytest.raises(KeyManagementError, match="missing or malformed"):
        FileKeyProvider(path)
