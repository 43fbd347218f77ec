"""The dashboard's tests share one complete lakehouse per test process (site_lake.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from site_lake import SiteLake, build_site_lake

from practicelake.app import App


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> SiteLake:
    return build_site_lake(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def site_app(site: SiteLake) -> Iterator[App]:
    with App(site.settings) as app:
        yield app
