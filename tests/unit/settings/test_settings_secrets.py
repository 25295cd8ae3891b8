"""Settings: documented fields, placeholder secrets refused outside development."""

from __future__ import annotations

from pathlib import Path

import pytest

from custodia.core.errors import ConfigurationError
from custodia.settings import Settings, load_settings


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


def test_development_accepts_the_placeholder() -> None:
    assert load_settings(environment="development").uses_placeholder_secret


@pytest.mark.parametrize("secret", ["change-me", "changeme", "secret", "short-but-real"])
def test_production_refuses_placeholder_or_short_secrets(secret: str) -> None:
    with pytest.raises(ConfigurationError, match="secret_key"):
        load_settings(environment="production", secret_key=secret)


def test_production_accepts_a_real_secret() -> None:
    s = load_settings(environment="production", secret_key="x" * 40)
    assert not s.uses_placeholder_secret


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CUSTODIA_HOME", str(tmp_path / "ws"))
    monkeypatch.setenv("CUSTODIA_PORT", "9001")
    s = load_settings()
    assert s.home == tmp_path / "ws"
    assert s.port == 9001
    assert s.resolved_store_url().endswith("/ws/store.db")


def test_bad_values_become_one_line_errors() -> None:
    with pytest.raises(ConfigurationError, match="setting port"):
        load_settings(port=70000)
