"""A small curated zone per test, and the read path over it."""

from __future__ import annotations

from pathlib import Path

import pytest
from curated_lake import curated_lake
from pyiceberg.catalog import Catalog

from practicelake.lakehouse.catalog import open_catalog
from practicelake.query import QueryService
from practicelake.settings import Settings


@pytest.fixture
def lake(tmp_path: Path) -> Settings:
    return curated_lake(tmp_path)


@pytest.fixture
def catalog(lake: Settings) -> Catalog:
    return open_catalog(lake)


@pytest.fixture
def service(catalog: Catalog) -> QueryService:
    return QueryService(catalog, freshness_seconds=0)
