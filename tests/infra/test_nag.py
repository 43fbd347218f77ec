"""cdk-nag's AWS Solutions and HIPAA Security packs pass: nothing unacknowledged, and every
acknowledgment carries a reason a reviewer can check (and docs/aws.md lists it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import ROOT, Synthesized

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cdk")]

PACKS = ("AwsSolutions", "HIPAA.Security")
TRIVIAL = re.compile(
    r"^\s*(todo|tbd|n/?a|none|ok|fine|ignore|ignored|suppress(ed)?|false positive|not needed)\W*$", re.I
)


def acknowledgments(synthesized: Synthesized) -> dict[tuple[str, str], str]:
    """(construct path, rule id) -> reason, for every cdk-nag rule acknowledged in the stack."""
    found = {}
    for path, entries in synthesized.metadata.items():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                for rule, reason in entry["data"].items():
                    found[(path, rule.removeprefix("Annotation::"))] = reason
    return found


def base_rule(rule: str) -> str:
    """`AwsSolutions-IAM5[Resource::...]` -> `AwsSolutions-IAM5`."""
    return rule.split("[", 1)[0].split("::")[-1]


def test_the_validation_report_has_no_finding(synthesized: Synthesized) -> None:
    reports = [synthesized.outdir / name for name in ("validation-report.json", "policy-validation-report.json")]
    present = [path for path in reports if path.exists()]
    assert present, f"no validation report in {synthesized.outdir}"
    for path in present:
        report = json.loads(path.read_text())
        for plugin in report.get("pluginReports", []):
            violations = [v["ruleName"] for v in plugin.get("violations", [])]
            assert plugin.get("conclusion") == "success" and not violations, (plugin["pluginName"], violations)


def test_both_packs_ran_and_had_something_to_say(synthesized: Synthesized) -> None:
    """An empty report is also what a synthesis without the packs writes: the acknowledgments
    each pack needed show that both read the stack."""
    rules = {rule for _, rule in acknowledgments(synthesized)}
    for pack in PACKS:
        assert any(rule.startswith(f"{pack}-") for rule in rules), pack


def test_every_acknowledgment_has_a_real_reason(synthesized: Synthesized) -> None:
    for (path, rule), reason in acknowledgments(synthesized).items():
        words = re.findall(r"[A-Za-z]{2,}", reason)
        assert not TRIVIAL.match(reason), (path, rule, reason)
        assert len(words) >= 10 and len(reason) >= 60, f"{path} {rule}: reason too thin: {reason!r}"
        assert base_rule(rule) not in reason, f"{path} {rule}: the reason only names the rule"


def test_the_acknowledgments_are_also_in_the_template(synthesized: Synthesized) -> None:
    """A reviewer of the template alone sees them (cdk_nag metadata, as cdk-nag v2 wrote it)."""
    in_template = {
        suppression["id"]
        for resource in synthesized.resources.values()
        for suppression in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }
    nag = {rule for _, rule in acknowledgments(synthesized) if rule.startswith(PACKS)}
    assert nag <= in_template, nag - in_template


def test_the_operator_guide_lists_every_acknowledged_rule(synthesized: Synthesized) -> None:
    guide = (ROOT / "docs" / "aws.md").read_text()
    rules = {base_rule(rule) for _, rule in acknowledgments(synthesized) if rule.startswith(PACKS)}
    missing = sorted(rule for rule in rules if f"`{rule}`" not in guide)
    assert not missing, f"docs/aws.md does not explain: {missing}"


def test_an_unacknowledged_finding_fails_the_synthesis(synthesized: Synthesized, tmp_path: Path) -> None:
    """The packs do refuse: a bare bucket fails both, and the report names the rules (the
    stack's synthesis, done first, has set up jsii's environment)."""
    from aws_cdk import App, Stack, Validations
    from aws_cdk import aws_s3 as s3
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

    app = App(outdir=str(tmp_path / "cdk.out"))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), HIPAASecurityChecks(app))
    s3.Bucket(Stack(app, "Bare"), "Bucket")
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    rules = {v["ruleName"] for plugin in report["pluginReports"] for v in plugin["violations"]}
    assert {"AwsSolutions-S1", "HIPAA.Security-S3BucketSSLRequestsOnly"} <= rules
