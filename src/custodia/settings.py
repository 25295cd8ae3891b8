"""Settings: the only module that reads the environment.

Every setting is documented beside its field. Values come from ``CUSTODIA_*`` environment variables
(e.g. ``CUSTODIA_HOME``, ``CUSTODIA_STORE_URL``) or from the CLI, which passes them explicitly.
Objects are built once from :class:`Settings` and passed down; nothing else reads ``os.environ``.

Example::

    settings = Settings(home=Path("/data/custodia"), environment="production",
                        secret_key="k8Jx...a long random value...")
    settings.resolved_store_url()   # sqlite:////data/custodia/store.db
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from custodia.core.errors import ConfigurationError

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "changethis", "secret", "custodia"})
MIN_SECRET_LENGTH = 32
MIN_KDF_MEMORY_KIB = 19_456
MIN_KDF_TIME_COST = 2
"""OWASP's minimum Argon2id cost (19 MiB, 2 passes); production settings refuse less."""

Environment = Literal["development", "test", "production"]


class Settings(BaseSettings):
    """Configuration of one Custodia workspace and process."""

    model_config = SettingsConfigDict(env_prefix="CUSTODIA_", extra="forbid", frozen=True)

    home: Path = Field(
        default=Path(".custodia"),
        description="Workspace directory: holds the lakehouse, the operational store and keys.",
    )
    environment: Environment = Field(
        default="development",
        description="development allows placeholder secrets; test and production refuse them.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr("change-me"),
        description=(
            "Server secret for keyed hashes (API tokens, blind indexes). Outside development it "
            f"must be at least {MIN_SECRET_LENGTH} characters and not a placeholder. When left at "
            "the placeholder in development, the workspace's own generated key file is used."
        ),
    )
    store_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the operational store. Default: SQLite (WAL) at HOME/store.db. "
            "Example: postgresql+psycopg://user@host:5432/custodia"
        ),
    )
    store_schema: str | None = Field(
        default=None, description="PostgreSQL schema for the operational store tables."
    )
    engine: Literal["duckdb"] = Field(
        default="duckdb",
        description="Analytical engine. DuckDB is embedded; Spark arrives with scale-out.",
    )
    host: str = Field(default="127.0.0.1", description="Address `custodia serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `custodia serve` uses.")
    api_spark: bool = Field(
        default=False,
        description=(
            "Let API callers run analyses on the Spark engine (each call starts a local Spark "
            "session or joins a configured one); off, the API answers 400 for engine 'spark' and "
            "Spark stays a CLI and job engine."
        ),
    )
    field_encryption: bool = Field(
        default=True,
        description=(
            "Encrypt L3 columns of customer records and profiles at rest, each subject under "
            "their own data key (docs/privacy-encryption.md). Turn off only to measure its cost."
        ),
    )
    duckdb_threads: int = Field(
        default=0, ge=0, description="DuckDB worker threads; 0 uses one per CPU core."
    )

    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Server processes `custodia serve` starts. Collector rate limits are divided among "
            "them; one of them at a time runs the event loader."
        ),
    )
    access_log: bool = Field(
        default=True,
        description=(
            "Log one line per HTTP request in `custodia serve`. Turn it off for high event "
            "rates: at tens of thousands of requests per second the log costs real CPU."
        ),
    )
    loader_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        description=(
            "How often the event loader inside `custodia serve` moves the event log into the "
            "lakehouse `events` table; 0 turns it off (then run `custodia load`)."
        ),
    )
    event_log_retention_hours: float = Field(
        default=24.0,
        ge=0,
        description=(
            "How long loaded entries stay in the event log (HOME/eventlog.db) for replay "
            "before the loader deletes them; entries not loaded yet are never deleted."
        ),
    )

    session_minutes: int = Field(
        default=60,
        ge=5,
        le=1440,
        description=(
            "Lifetime of a console login session (POST /v1/auth/login); use does not extend "
            "it, and logout, disabling the user or a new role or password end it sooner."
        ),
    )
    password_kdf_memory_kib: int = Field(
        default=65_536,
        ge=8,
        le=4_194_304,
        description=(
            "Argon2id memory per password hash, in KiB (RFC 9106 low-memory profile: 65536). "
            f"Production refuses less than {MIN_KDF_MEMORY_KIB}; lower values are for tests."
        ),
    )
    password_kdf_time_cost: int = Field(
        default=3,
        ge=1,
        le=20,
        description=(
            "Argon2id passes per password hash (RFC 9106 low-memory profile: 3). Production "
            f"refuses less than {MIN_KDF_TIME_COST}."
        ),
    )

    debug: bool = Field(
        default=False,
        description="Show full tracebacks of unexpected errors in the CLI (they may quote data).",
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment == "development":
            return self
        secret = self.secret_key.get_secret_value()
        if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                f"secret_key: a placeholder or short secret is refused in {self.environment}; "
                f"set CUSTODIA_SECRET_KEY to a random value of {MIN_SECRET_LENGTH}+ characters"
            )
        return self

    @model_validator(mode="after")
    def _refuse_weak_password_hashing(self) -> Settings:
        weak = (
            self.password_kdf_memory_kib < MIN_KDF_MEMORY_KIB
            or self.password_kdf_time_cost < MIN_KDF_TIME_COST
        )
        if weak and self.environment == "production":
            raise ConfigurationError(
                "password_kdf_memory_kib, password_kdf_time_cost: below the minimum "
                f"({MIN_KDF_MEMORY_KIB} KiB, {MIN_KDF_TIME_COST} passes) in production"
            )
        return self

    @property
    def uses_placeholder_secret(self) -> bool:
        return self.secret_key.get_secret_value().lower() in PLACEHOLDER_SECRETS

    def resolved_store_url(self) -> str:
        """The store URL, defaulting to SQLite inside the workspace."""
        if self.store_url:
            return self.store_url
        return f"sqlite:///{(self.home / 'store.db').resolve()}"

    @property
    def lake_root(self) -> Path:
        return self.home / "lake"

    def as_environment(self) -> dict[str, str]:
        """These settings as ``CUSTODIA_*`` variables, for child processes (server workers)
        that must see exactly the same configuration.

        >>> Settings(home=Path("/w")).as_environment()["CUSTODIA_HOME"]
        '/w'
        """
        values = self.model_dump()
        values["secret_key"] = self.secret_key.get_secret_value()
        return {
            f"CUSTODIA_{name.upper()}": _env_text(value)
            for name, value in values.items()
            if value is not None
        }

    @property
    def event_log_path(self) -> Path:
        """The collector's durable event log (SQLite, WAL)."""
        return self.home / "eventlog.db"


def _env_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (e.g. from CLI flags).

    A pydantic error about a bad value becomes a one-line :class:`ConfigurationError` naming the
    setting.
    """
    from pydantic import ValidationError as PydanticValidationError

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigurationError(f"setting {where}: {first['msg']}") from None
