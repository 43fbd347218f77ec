"""The 835 samples read into claim_outcomes, payments and adjustments, against figures read
from the files apart (plain Python, and pyx12 for the claim counts)."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from x12_samples import FIXTURES, REMITTANCES, cas_amounts, of, plb_amounts, segments, total

from practicelake.errors import MalformedFileError
from practicelake.formats import registry
from practicelake.formats.base import Source
from practicelake.formats.x12.remittance import FORMAT
from practicelake.formats.x12.remittance_loops import remittances
from practicelake.formats.x12.segments import read_document

PYX12 = FIXTURES / "pyx12"
LFH = FIXTURES / "linuxforhealth-x12" / "835_005010X221A1"
NAMES = [p.name for p in REMITTANCES]


def pyx12_counts(path: Path) -> dict[str, int]:
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    reader = pyx12.x12context.X12ContextReader(
        pyx12.params.params(), pyx12.error_handler.errh_null(), io.StringIO(path.read_text())
    )
    counts: dict[str, int] = {}
    for node in reader.iter_segments():
        counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def amounts(rows: list[dict[str, str | None]], column: str) -> Decimal:
    return sum((Decimal(r[column] or "0") for r in rows), Decimal(0))


def test_there_are_835_samples_of_both_projects() -> None:
    assert len(REMITTANCES) == 8
    assert {p.parent.name for p in REMITTANCES} == {"pyx12", "835_005010X221A1", "demo-file"}


@pytest.mark.parametrize("path", REMITTANCES, ids=NAMES)
def test_every_claim_and_amount_of_the_file_is_read(path: Path) -> None:
    data, found = path.read_bytes(), segments(path.read_bytes())
    clp = of(found, "CLP")
    outcomes = FORMAT.read(data, "claim_outcomes")
    payments = FORMAT.read(data, "payments")
    adjustments = FORMAT.read(data, "adjustments")
    assert outcomes.bad_rows == payments.bad_rows == adjustments.bad_rows == []
    assert outcomes.rows.num_rows == len(clp) == pyx12_counts(path)["CLP"]
    rows = outcomes.rows.to_pylist()
    assert amounts(rows, "billed_amount") == total([s[3] for s in clp])
    assert amounts(rows, "paid_amount") == total([s[4] for s in clp])
    assert [r["status_code"] for r in rows] == [s[2] for s in clp]
    assert [r["raw_line"] for r in rows] == [i + 1 for i, s in enumerate(found) if s[0] == "CLP"]
    claim_payments = [r for r in payments.rows.to_pylist() if r["claim_id"] is not None]
    assert amounts(claim_payments, "amount") == total([s[4] for s in clp])
    assert len(claim_payments) == sum(1 for s in clp if Decimal(s[4]) != 0)
    plb = [r for r in payments.rows.to_pylist() if r["claim_id"] is None]
    assert amounts(plb, "amount") == -total(plb_amounts(found))
    assert adjustments.rows.num_rows == len(cas_amounts(found))
    assert amounts(adjustments.rows.to_pylist(), "amount") == total(cas_amounts(found))
    assert amounts(rows, "adjusted_amount") == total(cas_amounts(found))


@pytest.mark.parametrize("path", REMITTANCES, ids=NAMES)
def test_the_payments_of_a_file_add_up_to_its_bpr02(path: Path) -> None:
    found = segments(path.read_bytes())
    payments = FORMAT.read(path.read_bytes(), "payments")
    paid = amounts(payments.rows.to_pylist(), "amount")
    if paid == total([s[2] for s in of(found, "BPR")]):
        assert not any("BPR02" in w for w in payments.warnings)
    else:  # pyx12's 4010 sample: 467.69 paid, BPR02 5950.21
        assert path.name == "835_simple.txt"
        assert any("467.69" in w and "5950.21" in w for w in payments.warnings)


def test_service_lines_are_counted_as_the_file_has_them() -> None:
    for path in REMITTANCES:
        lines = sum(len(c.lines) for r in remittances(read_document(path.read_bytes())) for c in r.claims)
        assert lines == len(of(segments(path.read_bytes()), "SVC")), path.name


def test_the_denied_claim_of_pyx12_is_denied_for_missing_information() -> None:
    data = (PYX12 / "835_mult_loops.txt").read_bytes()
    (outcome,) = FORMAT.read(data, "claim_outcomes").rows.to_pylist()
    assert (outcome["status_code"], outcome["outcome"], outcome["paid_amount"]) == ("4", "denied", "0")
    assert (outcome["service_from"], outcome["service_to"]) == ("2003-10-30", "2003-11-29")
    adjustments = FORMAT.read(data, "adjustments").rows.to_pylist()
    assert [(a["group_code"], a["carc_code"], a["rarc_code"], a["amount"]) for a in adjustments] == [
        ("CO", "16", "N14", "500.04"),
        ("OA", "A7", "N14", "127.8"),
        ("OA", "A7", "N14", "287.55"),
    ]
    assert {a["adjusted_on"] for a in adjustments} == {"2013-09-01"}  # DTM*405
    assert FORMAT.read(data, "payments").rows.num_rows == 0  # nothing paid, no PLB


def test_the_plb_of_the_medicare_sample_is_a_payment_with_the_opposite_sign() -> None:
    data = (LFH / "medicare-part-a.835").read_bytes()
    rows = FORMAT.read(data, "payments").rows.to_pylist()
    (plb,) = [r for r in rows if r["claim_id"] is None]
    assert (plb["amount"], plb["raw_line"], plb["payer_id"]) == ("1.27", 29, "999")  # PLB*...*CV:CP*-1.27
    assert (plb["paid_at"], plb["method"], plb["remittance_ref"]) == ("2002-09-13", "eft", "12345")
    assert amounts(rows, "amount") == Decimal("150000.00")  # BPR02
    outcomes = FORMAT.read(data, "claim_outcomes").rows.to_pylist()
    assert outcomes[1]["outcome"] == "paid"
    assert FORMAT.read(data, "adjustments").rows.to_pylist()[1]["rarc_code"] == "MA02"  # MOA


def test_a_reversal_and_its_correction_are_two_decisions_with_their_own_ids() -> None:
    rows = FORMAT.read((PYX12 / "835_simple.txt").read_bytes(), "claim_outcomes").rows.to_pylist()
    assert [(r["claim_id"], r["outcome"]) for r in rows] == [
        ("123839-24635", "reversed"),
        ("123839-24635", "paid"),
        ("134158-27488", "reversed"),
    ]
    assert len({r["outcome_id"] for r in rows}) == 3


def test_ids_are_stable_and_unique_across_reads_and_files() -> None:
    keys = {"claim_outcomes": "outcome_id", "payments": "payment_id", "adjustments": "adjustment_id"}
    for dataset, key in keys.items():
        seen: set[str] = set()
        for path in REMITTANCES:
            if path.parent.name == "demo-file":  # the same remittance as medicare-part-a
                continue
            first = FORMAT.read(path.read_bytes(), dataset).rows.column(key).to_pylist()
            assert first == FORMAT.read(path.read_bytes(), dataset).rows.column(key).to_pylist()
            assert not seen & set(first) and len(set(first)) == len(first)
            seen |= set(first)


def unbalance(data: bytes) -> bytes:
    return data.replace(b"CLP*5554555444*1*800.00", b"CLP*5554555444*1*801.00")


def test_a_claim_that_does_not_balance_is_bad_in_every_dataset_it_feeds() -> None:
    data = unbalance((LFH / "managed-care.835").read_bytes())
    outcomes, payments, adjustments = (FORMAT.read(data, d) for d in FORMAT.datasets)
    for parsed, bad, good in ((outcomes, 1, 1), (payments, 1, 1), (adjustments, 2, 3)):
        assert len(parsed.bad_rows) == bad and parsed.rows.num_rows == good
        assert {b.rule for b in parsed.bad_rows} == {"unbalanced_claim"}
    assert outcomes.bad_rows[0].line == 13
    assert [b.line for b in adjustments.bad_rows] == [14, 19]
    assert "charge 801.00 is not payment 450.00 plus adjustments 350.00" in outcomes.bad_rows[0].detail
    assert "5554555444" not in outcomes.bad_rows[0].detail


def test_a_claim_with_an_unreadable_amount_is_bad_and_named_by_position() -> None:
    data = (LFH / "managed-care.835").read_bytes().replace(b"CAS*CO*A2*50.00", b"CAS*CO*A2*5O.00")
    for dataset in FORMAT.datasets:
        parsed = FORMAT.read(data, dataset)
        assert parsed.bad_rows and {b.rule for b in parsed.bad_rows} == {"unreadable_amount"}
        assert all("segment 14" in b.detail for b in parsed.bad_rows)


def test_an_unknown_status_is_a_bad_outcome_only() -> None:
    data = (LFH / "managed-care.835").read_bytes().replace(b"CLP*5554555444*1*", b"CLP*5554555444*27*")
    outcomes = FORMAT.read(data, "claim_outcomes")
    assert [(b.line, b.rule) for b in outcomes.bad_rows] == [(13, "unknown_claim_status")]
    assert FORMAT.read(data, "payments").bad_rows == []


def test_a_line_denied_on_a_processed_claim_makes_it_partially_paid() -> None:
    data = (LFH / "managed-care.835").read_bytes().replace(b"CAS*CO*45*50.00", b"CAS*CO*16*50.00")
    rows = FORMAT.read(data, "claim_outcomes").rows.to_pylist()
    assert [r["outcome"] for r in rows] == ["paid", "partially_paid"]


def test_the_columns_asked_for_are_the_only_ones_read() -> None:
    parsed = FORMAT.read((LFH / "managed-care.835").read_bytes(), "payments", ["payment_id", "amount"])
    assert parsed.rows.column_names == ["payment_id", "amount", "raw_line"]


def test_a_date_in_bpr15_is_read_with_a_warning() -> None:
    parsed = FORMAT.read((LFH / "secondary-payment.835").read_bytes(), "payments")
    assert {r["paid_at"] for r in parsed.rows.to_pylist()} == {"2005-04-12"}
    assert any("BPR15" in w for w in parsed.warnings)


def test_sniff_claims_835s_only() -> None:
    assert registry.get("x12-835") is FORMAT
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.name != "SOURCE.txt":
            is_835 = path in REMITTANCES
            assert FORMAT.sniff(Source(path.read_bytes(), path.name)) is is_835, path.name
    assert not FORMAT.sniff(Source(b"claim_id,amount\nC1,10\n", "remits.csv"))
    assert not FORMAT.sniff(Source(b"", "empty.835"))


def test_an_837_is_not_read_as_an_835() -> None:
    data = (FIXTURES / "pyx12" / "simple_837p.txt").read_bytes()
    with pytest.raises(MalformedFileError, match="segment 3 is a '837' transaction set, not an 835"):
        FORMAT.inspect(Source(data, "claims.835"))
    with pytest.raises(MalformedFileError):
        FORMAT.read(data, "claim_outcomes")


def test_inspect_names_the_datasets_with_records() -> None:
    inspection = FORMAT.inspect(Source((PYX12 / "835_mult_loops.txt").read_bytes(), "denied.835"))
    assert inspection.datasets == ("claim_outcomes", "adjustments")
    inspection = FORMAT.inspect(Source((LFH / "medicare-part-a.835").read_bytes(), "medicare.835"))
    assert inspection.datasets == ("claim_outcomes", "payments", "adjustments")


def test_a_line_adjustment_names_the_charge_the_837_sent_as_ref_6r() -> None:
    data = (LFH / "managed-care.835").read_bytes().replace(b"DTM*151*20020304~", b"DTM*151*20020304~\nREF*6R*L-77~")
    data = data.replace(b"SE*26*", b"SE*27*")
    rows = FORMAT.read(data, "adjustments").rows.to_pylist()
    assert [r["charge_id"] for r in rows] == [None, "L-77", None, None, None]


def test_dates_are_dates_and_the_payment_date_is_a_date_without_a_time() -> None:
    data = (LFH / "medicare-part-a.835").read_bytes()
    (first, _) = FORMAT.read(data, "claim_outcomes").rows.to_pylist()
    assert (first["adjudicated_on"], first["service_from"], first["service_to"]) == (
        "2002-09-16",
        "2002-08-16",
        "2002-08-24",
    )
    assert {r["paid_at"] for r in FORMAT.read(data, "payments").rows.to_pylist()} == {"2002-09-13"}
    # The TR3 example's BPR16 is 20002316, no date: written as read, for the contract to refuse.
    managed = FORMAT.read((LFH / "managed-care.835").read_bytes(), "payments").rows.to_pylist()
    assert {r["paid_at"] for r in managed} == {"2000-23-16"}


def test_inspect_warns_of_a_file_whose_payments_do_not_add_up() -> None:
    inspection = FORMAT.inspect(Source((PYX12 / "835_simple.txt").read_bytes(), "simple.835"))
    assert any("BPR02 says 5950.21" in w for w in inspection.warnings)
