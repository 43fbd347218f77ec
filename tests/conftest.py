"""Fixtures shared by the suite: settings per storage backend, a real S3 server (moto) on
127.0.0.1, started and stopped by the suite itself, and one complete small lakehouse per test
process for the dashboard's tests (site_lake.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from lakes import local_settings, s3_settings
from practicelake.app import App
from practicelake.pipeline import Lakehouse
from practicelake.settings import Settings
from site_lake import SiteLake, build_site_lake


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


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


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> SiteLake:
    """Six synthetic practices through the real pipeline, exports ending on site_lake.TODAY."""
    return build_site_lake(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def site_app(site: SiteLake) -> Iterator[App]:
    with App(site.settings) as app:
        yield app
