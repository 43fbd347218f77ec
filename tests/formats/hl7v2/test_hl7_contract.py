"""The rows of the HL7 v2 samples through the contract checks the transform applies: the sample
rows are accepted (no value of the wrong form), and a damaged one is quarantined by its rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from hl7_messages import dft, ft1, siu

from practicelake.clean.files import CleanedChunk, RawFile, RunContext, clean_chunk
from practicelake.clean.pseudonym import Pseudonyms
from practicelake.clean.read import read_rows
from practicelake.contracts import BY_ENTITY, Contract
from practicelake.formats.hl7v2.reader import FORMAT

SAMPLES = Path(__file__).parents[2] / "fixtures" / "formats" / "hl7v2"
CONTRACTS = {c.dataset: c for c in BY_ENTITY.values()}


def _cleaned(data: bytes, contract: Contract) -> CleanedChunk:
    parsed = read_rows(FORMAT, data, contract, "p1")
    context = RunContext("run1", lambda _: "America/New_York", lambda _: "USD", Pseudonyms(lambda _: b"k" * 32))
    with duckdb.connect() as con:
        return clean_chunk(con, contract, [RawFile("p1", "sha", date(2026, 1, 1), parsed)], context)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("SIU*.hl7")) + sorted(SAMPLES.glob("DFT-P03*.hl7")), ids=str)
def test_sample_rows_meet_the_contract(path: Path) -> None:
    dataset = "appointments" if path.name.startswith("SIU") else "charges"
    cleaned = _cleaned(path.read_bytes(), CONTRACTS[dataset])
    assert cleaned.quarantined.num_rows == 0, cleaned.quarantined.to_pylist()
    assert cleaned.accepted.num_rows == FORMAT.read(path.read_bytes(), dataset).rows_read


def test_statuses_and_text_forms_meet_the_contract() -> None:
    text = "".join(
        siu(event, "202403011000-0500", filler=f"A{i}", start=start)
        for i, (event, start) in enumerate(
            [("S12", "20240311"), ("S15", "202403111000"), ("S17", "202403111000-0400"), ("S26", "202403111000")]
        )
    )
    cleaned = _cleaned(text.encode(), CONTRACTS["appointments"])
    assert cleaned.quarantined.num_rows == 0, cleaned.quarantined.to_pylist()
    statuses = sorted(cleaned.accepted.column("status").to_pylist())
    assert statuses == ["booked", "cancelled", "entered-in-error", "noshow"]


def test_a_charge_with_a_bad_amount_is_quarantined_with_its_position() -> None:
    text = dft(ft1("1"), ft1("2", charge="T2", extended="", unit="x"))
    cleaned = _cleaned(text.encode(), CONTRACTS["charges"])
    assert cleaned.accepted.num_rows == 1
    assert cleaned.quarantined.column("raw_line").to_pylist() == [1]
