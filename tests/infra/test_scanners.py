"""checkov and cfn-lint on the synthesised template: no failed check, no error or warning;
a check checkov skips is skipped in the template's own metadata, with its reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, Synthesized

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cdk")]

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def test_checkov_finds_nothing(synthesized: Synthesized) -> None:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: run `make .venv-checkov/.installed`")
    done = subprocess.run(
        [str(CHECKOV), "--skip-download", "--framework", "cloudformation", "--output", "json",
         "-f", str(synthesized.template_file)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [(c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]]
    assert not failed, failed
    assert done.returncode == 0, done.stderr[-2000:]
    passed = sum(r["summary"]["passed"] for r in reports)
    assert passed > 100, "checkov read too little of the template"
    skipped = [c for r in reports for c in r["results"].get("skipped_checks", [])]
    assert skipped, "the template's one checkov skip (access logs not logged) was not seen"
    for check in skipped:
        assert len(check.get("check_result", {}).get("suppress_comment") or "") >= 40, check["check_id"]


def test_checkov_skips_live_in_the_template_with_reasons(synthesized: Synthesized) -> None:
    for name, resource in synthesized.resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_") and len(skip.get("comment", "")) >= 40, (name, skip)


def test_cfn_lint_finds_nothing(synthesized: Synthesized) -> None:
    done = subprocess.run(
        [str(CFN_LINT), "--format", "json", "--", str(synthesized.template_file)],
        capture_output=True, text=True, timeout=300, check=False, cwd=Path(synthesized.outdir),
    )  # fmt: skip
    matches = json.loads(done.stdout or "[]")
    assert not matches, [(m["Rule"]["Id"], m["Message"]) for m in matches]
    assert done.returncode == 0, done.stderr[-2000:]
