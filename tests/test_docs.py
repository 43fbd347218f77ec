"""Documentation that is generated from code must match the code."""

from __future__ import annotations

from pathlib import Path

from practicelake.curate import docs as metrics_docs
from practicelake.lakehouse.docs import render_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_contracts_doc_is_current() -> None:
    expected = render_markdown() + "\n"
    assert (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8") == expected, (
        "docs/contracts.md is stale: run `practicelake contracts > docs/contracts.md`"
    )


def test_metrics_doc_is_current() -> None:
    assert (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8") == metrics_docs.render_markdown(), (
        "docs/metrics.md is stale: run `practicelake metrics > docs/metrics.md`"
    )


def test_every_kpi_is_defined_once() -> None:
    from practicelake.curate.project import load_models

    names = [metric.name.lower() for model in load_models() for metric in model.contract.metrics]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
