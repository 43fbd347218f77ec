"""All of practicelake's settings, read in one place: defaults, then `practicelake.toml`,
then environment variables prefixed `PRACTICELAKE_` (nested with `__`). Nothing else reads
the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from practicelake.errors import SettingsError, UnknownPracticeError

CONFIG_FILE = Path("practicelake.toml")


class PracticeSettings(BaseModel):
    """One practice the deployment serves."""

    name: str = ""
    """Display name."""
    time_zone: str
    """IANA time zone: export timestamps are wall time there, stored as UTC."""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    """ISO 4217 code of the practice's money columns."""

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Settings(BaseSettings):
    """Where the lakehouse lives and which practices it serves."""

    model_config = SettingsConfigDict(
        env_prefix="PRACTICELAKE_",
        env_nested_delimiter="__",
        toml_file=CONFIG_FILE,
        extra="forbid",
    )

    warehouse_uri: str = Field(default_factory=lambda: Path("lakehouse").absolute().as_uri())
    """Object storage root of all zones: `file:///...` (default: ./lakehouse) or `s3://bucket/prefix`."""
    catalog_uri: str | None = None
    """Iceberg catalog: `sqlite:///path`. Default: catalog.db inside a local warehouse."""
    key_file: Path = Path(".practicelake/keys.json")
    """Local key store (per-practice secrets), created 0600 on first use. Never inside the warehouse."""
    state_dir: Path = Path(".practicelake")
    """Local working state: locks and scratch space."""
    practices: dict[str, PracticeSettings] = Field(default_factory=dict)
    """Practices by id."""
    value_units_file: Path | None = None
    """CSV of value units per procedure (procedure_code, work_rvu) replacing the packaged
    reference table: US work RVUs by default; a tariff's units elsewhere."""
    s3_endpoint_url: str | None = None
    """S3 endpoint; unset means AWS."""
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    """Unset means the AWS SDK's default credential chain."""
    s3_secret_access_key: SecretStr | None = None
    s3_allow_http: bool = False
    """Allow plain HTTP to the S3 endpoint: only for a test server on 127.0.0.1."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("warehouse_uri")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("file://", "s3://")):
            raise ValueError("warehouse_uri must start with file:// or s3://")
        return value.rstrip("/")

    @field_validator("s3_endpoint_url")
    @classmethod
    def _tls_unless_loopback(cls, value: str | None) -> str | None:
        if value and value.startswith("http://") and not value.startswith(("http://127.0.0.1", "http://localhost")):
            raise ValueError("a plain-HTTP S3 endpoint is only allowed on 127.0.0.1")
        return value

    @property
    def resolved_catalog_uri(self) -> str:
        if self.catalog_uri:
            return self.catalog_uri
        if self.warehouse_uri.startswith("file://"):
            return "sqlite:///" + str(Path(self.warehouse_uri.removeprefix("file://")) / "catalog.db")
        raise SettingsError("catalog_uri is required when the warehouse is not a local folder")

    def practice(self, practice_id: str) -> PracticeSettings:
        try:
            return self.practices[practice_id]
        except KeyError:
            raise UnknownPracticeError(
                f"practice {practice_id!r} is not configured: add [practices.{practice_id}] with "
                "time_zone and currency to practicelake.toml"
            ) from None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the defaults, the settings file (default ./practicelake.toml) and the
    environment, then `overrides`."""
    settings_cls = Settings
    if config_file is not None:
        if not config_file.is_file():
            raise SettingsError(f"{config_file}: no such settings file")

        class FileSettings(Settings):
            model_config = SettingsConfigDict(toml_file=config_file)

        settings_cls = FileSettings
    try:
        return settings_cls(**overrides)
    except ValueError as exc:
        raise SettingsError(f"invalid settings: {exc}") from exc
