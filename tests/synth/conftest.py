"""Generations shared by the synth tests."""

from __future__ import annotations

import pytest
from export_checks import Export

from practicelake.synth import generate


@pytest.fixture(scope="session")
def clean_export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    root = tmp_path_factory.mktemp("clean")
    return Export(root, generate(root, practices=4, years=2, seed=7, appointments=60_000))


@pytest.fixture(scope="session")
def dirty_export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    root = tmp_path_factory.mktemp("dirty")
    return Export(root, generate(root, practices=3, years=1, seed=11, dirty_rate=0.1, appointments=20_000))
