"""The data-health page over a lake where one export file failed and rows were quarantined:
its figures equal what the pipeline's own tables say (read here directly), the failed file
comes first with its reason, and the page says what needs attention."""

from __future__ import annotations

from collections import Counter
from datetime import date
from types import MappingProxyType

import pytest

from clean.generated import small_export
from lakes import local_settings
from practicelake.access.principals import Principal
from practicelake.app import App
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.filters import Filters, resolve
from practicelake.dashboard.pages import BY_KEY, build
from practicelake.dashboard.view import PageView

TODAY = date(2026, 6, 30)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> App:
    root = tmp_path_factory.mktemp("health")
    exports = root / "exports"
    report = small_export(exports, practices=1, appointments=1500)
    batch = sorted(p for p in (exports / "P001").iterdir() if p.is_dir())[-1]
    (batch / "payers.csv").write_bytes(b"\xff\xfe\x00binary, not an export\x00")
    core = App(local_settings(root))
    for practice in report.practice_ids:
        core.lakehouse.ingest(practice, [exports / practice])
    core.lakehouse.transform()
    core.lakehouse.curate()
    return core


def health(core: App, role: str = "practice_owner") -> PageView:
    principal = Principal("owner", "user", MappingProxyType({"P001": role}))
    filters = Filters()
    ctx = PageContext(core.reader, principal, "P001", core.settings.practices["P001"], filters,
                      resolve(filters, TODAY), TODAY, lambda relation: None,
                      operations=lambda: core.status("P001"))  # fmt: skip
    return build(BY_KEY["health"], ctx)


def _tile(view: PageView, key: str) -> float | None:
    return next(tile.value for tile in view.tiles if tile.key == key)


def test_the_figures_are_the_pipelines_own(lake: App) -> None:
    view = health(lake)
    manifest = lake.catalog.load_table("ops.raw_files").scan().to_arrow().to_pylist()
    statuses = Counter(row["status"] for row in manifest if row["practice_id"] == "P001")
    quarantine = lake.catalog.load_table("ops.quarantine").scan().to_arrow().to_pylist()
    assert _tile(view, "files_failed") == statuses["failed"] == 1
    received = {row["sha256"] for row in manifest if row["practice_id"] == "P001" and row["status"] not in
                ("failed", "already_ingested")}  # fmt: skip
    assert _tile(view, "files_loaded") == len(received) > 0
    assert _tile(view, "rows_quarantined") == sum(1 for row in quarantine if row["practice_id"] == "P001") > 0
    assert _tile(view, "files_unbalanced") == 0
    by_rule = Counter((row["entity"], row["rule"]) for row in quarantine if row["practice_id"] == "P001")
    table = next(t for t in view.tables if t.key == "quarantine")
    assert {(row[0], row[1]): row[2] for row in table.rows} == {key: float(n) for key, n in by_rule.items()}


def test_the_failed_file_comes_first_with_its_reason(lake: App) -> None:
    files = next(t for t in health(lake).tables if t.key == "files")
    first = dict(zip([c.key for c in files.columns], files.rows[0], strict=True))
    assert first["status"] == "failed" and first["dataset"] == "payers"
    assert isinstance(first["reason"], str) and len(first["reason"]) > 10
    assert len(files.rows) <= 40


def test_it_says_what_needs_attention(lake: App) -> None:
    view = health(lake)
    assert [item.severity for item in view.attention][:1] == ["critical"]
    assert "failed" in view.attention[0].title


def test_no_raw_file_hash_is_on_the_page(lake: App) -> None:
    text = health(lake).model_dump_json()
    manifest = lake.catalog.load_table("ops.raw_files").scan().to_arrow().to_pylist()
    assert not any(row["sha256"] in text for row in manifest if row.get("sha256"))


def test_the_period_and_filters_do_not_apply(lake: App) -> None:
    view = health(lake)
    assert view.filtered is False
    assert any("do not apply" in note for note in view.notes)
