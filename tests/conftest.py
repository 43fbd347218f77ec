"""Fixtures shared by the suite: settings per storage backend, and a real S3 server (moto)
on 127.0.0.1, started and stopped by the suite itself."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings, load_settings

PRACTICES = {
    "P001": {"time_zone": "Africa/Johannesburg", "currency": "ZAR"},
    "P002": {"time_zone": "America/New_York", "currency": "USD"},
    "P003": {"time_zone": "Europe/London", "currency": "GBP"},
    "P004": {"time_zone": "America/Chicago", "currency": "USD"},
}
TEST_KEY = "practicelake-test"  # moto accepts any credentials; these are not secrets


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def make_bucket(endpoint: str) -> str:
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=TEST_KEY, aws_secret_access_key=TEST_KEY,
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
    }
    return load_settings(**(values | overrides))


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings on each storage backend: the same behaviour tests run on both."""
    if backend == "s3":
        return s3_settings(tmp_path, request.getfixturevalue("s3_endpoint"))
    return local_settings(tmp_path)


@pytest.fixture
def local(tmp_path: Path) -> Settings:
    return local_settings(tmp_path)


@pytest.fixture
def lakehouse(settings: Settings) -> Lakehouse:
    return Lakehouse.open(settings)
