"""Settings for test lakehouses: a local folder, or a bucket on the suite's S3 server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from practicelake.settings import Settings, load_settings

PRACTICES = {
    "P001": {"time_zone": "Africa/Johannesburg", "currency": "ZAR"},
    "P002": {"time_zone": "America/New_York", "currency": "USD"},
    "P003": {"time_zone": "Europe/London", "currency": "GBP"},
    "P004": {"time_zone": "America/Chicago", "currency": "USD"},
}
TEST_KEY = "practicelake-test"  # moto accepts any credentials; these are not secrets


def make_bucket(endpoint: str) -> str:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=TEST_KEY,
        aws_secret_access_key=TEST_KEY,
    )
    client.create_bucket(Bucket=bucket)
    return bucket


SettingsFactory = Callable[..., Settings]


def local_settings(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "warehouse_uri": (root / "lakehouse").as_uri(),
        "key_file": root / "keys" / "keys.json",
        "state_dir": root / "state",
        "practices": PRACTICES,
        "dev_mode": True,
    }
    return load_settings(**(values | overrides))


def s3_settings(root: Path, endpoint: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "warehouse_uri": f"s3://{make_bucket(endpoint)}/warehouse",
        "catalog_uri": f"sqlite:///{root / 'catalog.db'}",
        "key_file": root / "keys" / "keys.json",
        "state_dir": root / "state",
        "practices": PRACTICES,
        "s3_endpoint_url": endpoint,
        "s3_access_key_id": TEST_KEY,
        "s3_secret_access_key": TEST_KEY,
        "s3_allow_http": True,
        "dev_mode": True,
    }
    return load_settings(**(values | overrides))


def config_file(path: Path, settings: Settings, *, dev_mode: bool = True) -> Path:
    """`settings` as the practicelake.toml a command reads (--config)."""
    lines = [
        f"warehouse_uri = {json.dumps(settings.warehouse_uri)}",
        f"key_file = {json.dumps(str(settings.key_file))}",
        f"state_dir = {json.dumps(str(settings.state_dir))}",
        f"dev_mode = {json.dumps(dev_mode)}",
    ]
    for practice_id, practice in settings.practices.items():
        lines += [f"[practices.{practice_id}]", f"time_zone = {json.dumps(practice.time_zone)}"]
        lines.append(f"currency = {json.dumps(practice.currency)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
