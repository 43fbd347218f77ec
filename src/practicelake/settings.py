"""All of practicelake's settings, read in one place: defaults, then `practicelake.toml`,
then environment variables prefixed `PRACTICELAKE_` (nested with `__`). Nothing else reads
the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
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


LOOPBACK = ("127.0.0.1", "localhost", "::1")


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
    users_db: Path = Field(default_factory=lambda data: Path(data["state_dir"]) / "users.db")
    """SQLite store of users, their roles per practice and API tokens, created 0600; refused if
    group or others may read it. Default: users.db inside state_dir."""
    audit_log: Path = Field(default_factory=lambda data: Path(data["state_dir"]) / "audit" / "audit.log")
    """Append-only, hash-chained audit log of every data access and admin action (a folder of
    its own, 0700), with its anchor file beside it. Outside the warehouse: no reader's query can
    reach it. Default: audit/audit.log inside state_dir."""
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
    dev_mode: bool = False
    """UNSAFE, for the demo and tests only: create a missing key-encryption key on first use,
    instead of refusing to run until `practicelake init` has created it."""
    key_provider: str = Field(default="local", pattern=r"^(local|aws-kms)$")
    """What wraps each practice's keys: `local` (the key-encryption key in kek_file) or
    `aws-kms` (the AWS KMS key kms_key_id)."""
    kek_file: Path = Field(default_factory=lambda data: Path(data.get("key_file", "keys.json")).with_name("kek.key"))
    """The local key-encryption key, created 0600 by `practicelake init`; refused if group or
    others may read it. Back it up apart from the key file and the warehouse: without it the raw
    zone cannot be read. Default: kek.key beside key_file."""
    kms_key_id: str | None = None
    """AWS KMS key (id, ARN or alias) wrapping the practices' keys when key_provider is `aws-kms`."""
    kms_region: str | None = None
    """Region of the KMS key. Default: s3_region."""
    tls_cert_file: Path | None = None
    """Certificate chain (PEM) the web server presents. Unset: a self-signed certificate for
    localhost, generated into state_dir/tls on first start."""
    tls_key_file: Path | None = None
    """Private key (PEM) of tls_cert_file; refused if group or others may read it."""
    token: SecretStr | None = None
    """An API token of the reader (`practicelake sql`), usually from PRACTICELAKE_TOKEN."""

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

    @model_validator(mode="after")
    def _tls_unless_loopback(self) -> Settings:
        """S3 over TLS; plain HTTP only with s3_allow_http and a loopback host (a test server)."""
        if not self.s3_endpoint_url:
            return self
        parts = urlsplit(self.s3_endpoint_url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or parts.username or parts.password or not parts.hostname:
            raise ValueError("s3_endpoint_url must be https://host[:port] (no user or password in it)")
        if scheme == "http" and not (self.s3_allow_http and parts.hostname in LOOPBACK):
            raise ValueError("a plain-HTTP S3 endpoint needs s3_allow_http = true and a loopback host (127.0.0.1)")
        return self

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
