"""All of practicelake's settings, read in one place: defaults, then `practicelake.toml`,
then environment variables prefixed `PRACTICELAKE_` (nested with `__`). Nothing else reads
the environment."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import BaseModel, Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from practicelake.errors import SettingsError, UnknownPracticeError

CONFIG_FILE = Path("practicelake.toml")

PRACTICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""A practice id stands as it is in object keys and folder names: nothing normalises it, so
two ids can never meet in one folder."""
PRACTICE_ID_RULE = "1 to 64 ASCII letters, digits, '_' or '-', starting with a letter or digit"

# In the system's zone list but not zones a timestamp can be converted with: "Factory" (pyarrow
# refuses it), "localtime" (this machine's zone, unknown to DuckDB), "posixrules" (a template).
NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})


def cited(value: str, limit: int = 40) -> str:
    """A value from outside (a settings key, an argument) as a message may show it: quoted,
    control characters escaped, cut to `limit` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def practice_id_problem(practice_id: str) -> str | None:
    """Why `practice_id` cannot be a practice id, or None."""
    if PRACTICE_ID.fullmatch(practice_id):
        return None
    return f"practice id {cited(practice_id)} is not valid: a practice id is {PRACTICE_ID_RULE}"


@cache
def time_zones() -> frozenset[str]:
    """IANA names both the transform's engines convert wall time with (pyarrow and DuckDB)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    sample = pa.array([datetime(2024, 3, 10, 2, 30)], pa.timestamp("us"))
    usable = set()
    for name in available_timezones() - NOT_ZONES:
        try:
            pc.assume_timezone(sample, timezone=name, ambiguous="earliest", nonexistent="earliest")
        except pa.ArrowInvalid:
            continue
        usable.add(name)
    return frozenset(usable)


class PracticeSettings(BaseModel):
    """One practice the deployment serves."""

    name: str = ""
    """Display name."""
    time_zone: str
    """IANA time zone: export timestamps are wall time there, stored as UTC."""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    """ISO 4217 code of the practice's money columns."""
    locale: str = Field(default="en-US", pattern=r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2}|-[0-9]{3})?$")
    """BCP 47 language tag the dashboard formats numbers, money and dates in (en-US, en-ZA, fr-FR)."""

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in time_zones():
            raise ValueError(f"unknown time zone {cited(value)} (an IANA name such as 'Europe/London')")
        return value


LOOPBACK = ("127.0.0.1", "localhost", "::1")
ZONES = ("raw", "cleaned", "curated", "ops")
ZONES_SET_APART = tuple(f"{zone}_uri" for zone in ZONES)
GLUE_CATALOG = re.compile(r"glue://(\d{12})?")
"""`glue://`: the Glue catalog of the credentials' account; `glue://<account id>`: that account's."""
CATALOG_FORMS = "sqlite:///path, glue:// or glue://<12-digit AWS account id>"


class Settings(BaseSettings):
    """Where the lakehouse lives and which practices it serves."""

    model_config = SettingsConfigDict(
        env_prefix="PRACTICELAKE_",
        env_nested_delimiter="__",
        toml_file=CONFIG_FILE,
        extra="forbid",
    )

    warehouse_uri: str = Field(default_factory=lambda: Path("lakehouse").absolute().as_uri())
    """Object storage root of every zone not given a location of its own: `file:///...`
    (default: ./lakehouse) or `s3://bucket/prefix`."""
    raw_uri: str | None = None
    """Location of the raw zone: the received files (raw/) and the ingest manifest
    (ops.raw_files). Default: the warehouse. Each zone location is `file:///...` or
    `s3://bucket/prefix`, given when the lakehouse is created (a zone does not move once its
    tables exist); on AWS each is a bucket of its own, with its own KMS key and IAM scope
    (docs/storage.md says which command reads and writes which)."""
    cleaned_uri: str | None = None
    """Location of the cleaned zone: the cleaned tables and the transform's own ops tables
    (file_loads, quarantine, duplicates: the quarantine holds source values). Default: the warehouse."""
    curated_uri: str | None = None
    """Location of the curated zone: the curated tables, ops.curate_state and
    ops.curated_snapshots (what readers are pinned to). Default: the warehouse."""
    ops_uri: str | None = None
    """Location of the ops zone: the run journal (runs/), the writer lock (locks/) and ops.runs.
    Default: the warehouse."""
    catalog_uri: str | None = None
    """Iceberg catalog: `sqlite:///path`, or `glue://` for the AWS Glue Data Catalog of the
    account the credentials belong to, `glue://<12-digit account id>` for another account's
    (Glue's catalog id is the account id). Glue is reached in s3_region, at glue_endpoint_url,
    with the s3_access_key_id credentials (or the default chain); its databases are named
    cleaned, curated and ops. Default: catalog.db inside a local warehouse."""
    glue_endpoint_url: str | None = None
    """Glue endpoint; unset means AWS. Plain HTTP only for a test server on 127.0.0.1, as for S3."""
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
    """Allow plain HTTP to the S3 and Glue endpoints: only for a test server on 127.0.0.1."""
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
    web_host: str = "127.0.0.1"
    """Address `practicelake serve` listens on: loopback unless set (behind a load balancer,
    the address the balancer reaches)."""
    web_port: int = Field(default=8443, ge=1, le=65535)
    """Port of `practicelake serve` (HTTPS only)."""
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """A dashboard session unused this long ends."""
    session_hours: int = Field(default=12, ge=1, le=7 * 24)
    """A dashboard session ends this long after sign-in, however used."""
    sign_in_attempts: int = Field(default=5, ge=1, le=100)
    """Failed sign-ins to one account within lockout_minutes that lock it for lockout_minutes."""
    sign_in_attempts_per_address: int = Field(default=20, ge=1, le=10_000)
    """Failed sign-ins from one client address within lockout_minutes that lock the address out."""
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    """How long a lockout lasts, and the window failures are counted in."""
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

    @field_validator("warehouse_uri", *ZONES_SET_APART)
    @classmethod
    def _known_scheme(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.startswith(("file://", "s3://")):
            raise ValueError(f"{info.field_name} must start with file:// or s3://")
        return value.rstrip("/")

    @field_validator("catalog_uri")
    @classmethod
    def _known_catalog(cls, value: str | None) -> str | None:
        if value is None or value.startswith("sqlite:///") or GLUE_CATALOG.fullmatch(value):
            return value
        raise ValueError(f"not a catalog practicelake opens: use {CATALOG_FORMS}")

    @field_validator("practices", mode="before")
    @classmethod
    def _distinct_practice_ids(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # the type check says what is wrong
        for practice_id in map(str, value):
            problem = practice_id_problem(practice_id)
            if problem:
                raise ValueError(problem)
        by_folded: dict[str, str] = {}
        for practice_id in map(str, value):
            other = by_folded.setdefault(practice_id.lower(), practice_id)
            if other != practice_id:
                raise ValueError(
                    f"practice ids {other!r} and {practice_id!r} differ only in letter case "
                    "(a case-insensitive file system would give them one folder)"
                )
        return value

    @model_validator(mode="after")
    def _tls_unless_loopback(self) -> Settings:
        """S3 and Glue over TLS; plain HTTP only with s3_allow_http and a loopback host (a test server)."""
        for name, service in (("s3_endpoint_url", "S3"), ("glue_endpoint_url", "Glue")):
            endpoint = getattr(self, name)
            if not endpoint:
                continue
            parts = urlsplit(endpoint)
            scheme = parts.scheme.lower()
            if scheme not in ("http", "https") or parts.username or parts.password or not parts.hostname:
                raise ValueError(f"{name} must be https://host[:port] (no user or password in it)")
            if scheme == "http" and not (self.s3_allow_http and parts.hostname in LOOPBACK):
                raise ValueError(
                    f"a plain-HTTP {service} endpoint needs s3_allow_http = true and a loopback host (127.0.0.1)"
                )
        return self

    @model_validator(mode="after")
    def _zones_not_nested(self) -> Settings:
        """Two zone locations are the same or apart: one inside another would put one zone's
        objects under the other's IAM scope, and its tables in the other's sweep on offboarding."""
        roots = sorted(set(self.zone_uris.values()) | {self.warehouse_uri})
        for outer in roots:
            for inner in roots:
                if inner.startswith(outer + "/"):
                    raise ValueError(f"zone location {inner} is inside {outer}: give each zone a location of its own")
        return self

    @property
    def zone_uris(self) -> dict[str, str]:
        """Each zone's location (raw, cleaned, curated, ops): its own, or the warehouse."""
        return {zone: getattr(self, f"{zone}_uri") or self.warehouse_uri for zone in ZONES}

    @property
    def zones_apart(self) -> bool:
        """Whether any zone was given a location of its own (not the warehouse)."""
        return any(uri != self.warehouse_uri for uri in self.zone_uris.values())

    @property
    def local_folders(self) -> list[Path]:
        """The folders of the warehouse and of each zone that are on local disk."""
        roots = {self.warehouse_uri, *self.zone_uris.values()}
        return [Path(uri.removeprefix("file://")).absolute() for uri in sorted(roots) if uri.startswith("file://")]

    @property
    def resolved_catalog_uri(self) -> str:
        if self.catalog_uri:
            return self.catalog_uri
        if self.warehouse_uri.startswith("file://"):
            return "sqlite:///" + str(Path(self.warehouse_uri.removeprefix("file://")) / "catalog.db")
        raise SettingsError("catalog_uri is required when the warehouse is not a local folder")

    def practice(self, practice_id: str) -> PracticeSettings:
        problem = practice_id_problem(practice_id)
        if problem:
            raise UnknownPracticeError(problem)
        try:
            return self.practices[practice_id]
        except KeyError:
            near = [known for known in self.practices if known.lower() == practice_id.lower()]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise UnknownPracticeError(
                f"practice {practice_id!r} is not configured{hint}: add [practices.{practice_id}] with "
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
    except ValidationError as exc:
        # A field whose default derives from another (kek_file) only echoes that field's error.
        errors = [e for e in exc.errors() if e["type"] != "default_factory_not_called"] or exc.errors()
        raise SettingsError("invalid settings: " + "; ".join(map(_problem, errors))) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"invalid settings: {config_file or CONFIG_FILE}: {exc}") from None


def _problem(error: Any) -> str:
    """One pydantic error as `location: message`, on one line; never the value given (it may
    be a secret)."""
    location = ".".join(
        str(part) if re.fullmatch(r"[A-Za-z0-9_-]+", str(part)) else cited(str(part)) for part in error["loc"]
    )
    message = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
    return f"{location}: {message}" if location else message
