"""Clean rows pass every contract constraint; injected errors are exactly what the report says."""

from __future__ import annotations

from collections import Counter

import pytest
from export_checks import Export, breaking_rows, load

from practicelake.synth.generator import EXPORTED as CONTRACTS

DATASETS = [c.dataset for c in CONTRACTS]
TRANSACTIONAL = {
    "patients", "appointments", "encounters", "charges", "claims", "payments", "adjustments", "provider_schedules",
}  # fmt: skip


@pytest.mark.parametrize("dataset", DATASETS)
def test_a_clean_generation_passes_its_contract(clean_export: Export, dataset: str) -> None:
    verdicts = breaking_rows(clean_export, dataset)
    failures = {file: v for file, v in verdicts.items() if v["broken"]}
    assert not failures, f"{dataset}: {list(failures.items())[:3]}"
    assert sum(1 for _ in verdicts) > 0


@pytest.mark.parametrize("dataset", DATASETS)
def test_injected_errors_match_the_ground_truth(dirty_export: Export, dataset: str) -> None:
    report = dirty_export.report
    verdicts = breaking_rows(dirty_export, dataset)
    rows = duplicates = quarantined = 0
    for path in dirty_export.files(dataset):
        relative = str(path.relative_to(dirty_export.root))
        truth = report.injected[relative]
        lines = path.read_text(encoding="utf-8").split("\n")[1:-1]
        repeated = sum(n - 1 for n in Counter(lines).values())
        broken = verdicts.get(relative, {"broken": 0})["broken"]
        assert (len(lines), repeated, broken) == (truth.rows, truth.duplicates, truth.quarantined), relative
        assert truth.rows == truth.clean + truth.quarantined + truth.duplicates
        rows, duplicates, quarantined = (
            rows + truth.rows,
            duplicates + truth.duplicates,
            quarantined + truth.quarantined,
        )
    if dataset in TRANSACTIONAL:
        share = (duplicates + quarantined) / rows
        assert 0.06 <= share <= 0.14, share
        assert duplicates > 0 and quarantined > 0
    else:
        assert duplicates == quarantined == 0


def test_each_broken_row_breaks_exactly_one_constraint(dirty_export: Export) -> None:
    for dataset in TRANSACTIONAL:
        for file, verdict in breaking_rows(dirty_export, dataset).items():
            by_constraint = sum(n for name, n in verdict.items() if name != "broken")
            assert by_constraint == verdict["broken"], (file, verdict)


def test_every_kind_of_error_is_injected(dirty_export: Export) -> None:
    seen: set[str] = set()
    for dataset in TRANSACTIONAL:
        for verdict in breaking_rows(dirty_export, dataset).values():
            seen |= {f"{dataset}.{name}" for name, n in verdict.items() if n and name != "broken"}
    for expected in (
        "appointments.practice",
        "appointments.appointment_id:required",
        "appointments.rule:visit_ends_after_start",
        "appointments.status:allowed",
        "charges.procedure_code:pattern",
        "charges.amount:type",
        "encounters.diagnosis_codes:pattern",
        "adjustments.carc_code:reference",
        "patients.rule:born_before_registration",
        "patients.date_of_birth:type",
    ):
        assert expected in seen


def test_re_exported_rows_are_never_dirty(dirty_export: Export) -> None:
    """Claims followed through their lifecycle are exported clean in every batch."""
    con = load(dirty_export, "claims")
    counts = con.execute(
        """WITH multi AS (SELECT folder, claim_id FROM raw WHERE claim_id IS NOT NULL
                          GROUP BY ALL HAVING count(DISTINCT file) > 1)
           SELECT count(*), count(*) FILTER (WHERE practice_id <> folder OR claim_status = 'Pending Review'
                OR TRY_CAST(billed_amount AS DECIMAL(18, 2)) IS NULL OR TRY_CAST(submitted_at AS TIMESTAMP) IS NULL
                OR TRY_CAST(first_adjudicated_at AS TIMESTAMP) < TRY_CAST(submitted_at AS TIMESTAMP))
           FROM raw JOIN multi USING (folder, claim_id)"""
    ).fetchone()
    assert counts is not None
    re_exported, dirty = counts
    assert re_exported > 0
    assert dirty == 0
    assert dirty_export.report.corrections["claims"] > 0
