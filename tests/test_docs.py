"""Documentation that is generated from code must match the code."""

from __future__ import annotations

from pathlib import Path

from practicelake.contracts.docs import render_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_contracts_doc_is_current() -> None:
    expected = render_markdown() + "\n"
    assert (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8") == expected, (
        "docs/contracts.md is stale: run `practicelake contracts > docs/contracts.md`"
    )
