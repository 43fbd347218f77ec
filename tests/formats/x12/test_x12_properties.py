"""Random and mutated X12 files: rows, positioned bad rows or MalformedFileError, never another
exception, and never a lost record (the records are counted from the segments apart from the
loop readers)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings, strategies
from x12_samples import CLAIM_FILES, REMITTANCES

from practicelake.errors import MalformedFileError
from practicelake.formats.base import POSITION, ParsedFile, Source
from practicelake.formats.x12.claims import FORMAT as CLAIMS
from practicelake.formats.x12.remittance import FORMAT as REMITTANCES_FORMAT
from practicelake.formats.x12.segments import Document, read_document
from practicelake.formats.x12.transaction_format import TransactionSetFormat

SAMPLES = [p.read_bytes() for p in REMITTANCES + CLAIM_FILES]
FORMATS: list[TransactionSetFormat] = [REMITTANCES_FORMAT, CLAIMS]
AMOUNT = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


def remittance_records(document: Document) -> dict[str, int]:
    counts = dict.fromkeys(REMITTANCES_FORMAT.datasets, 0)
    for transaction in document.transactions:
        in_claim = False
        for found in document.segments[transaction.start + 1 : transaction.end]:
            tag = found[0]
            if tag == "CLP":
                in_claim = True
                counts["claim_outcomes"] += 1
                paid = found[4] if len(found) > 4 else ""
                counts["payments"] += not (AMOUNT.fullmatch(paid) and Decimal(paid) == 0)
            elif tag in ("LX", "PLB"):
                in_claim = False
                if tag == "PLB":
                    counts["payments"] += sum(1 for i in range(3, 15, 2) if any(found[i : i + 2]))
            elif tag == "CAS" and in_claim:
                counts["adjustments"] += max(1, sum(1 for i in range(2, 20, 3) if any(found[i : i + 2])))
    return counts


def claim_records(document: Document) -> dict[str, int]:
    counts = dict.fromkeys(CLAIMS.datasets, 0)
    for transaction in document.transactions:
        in_claim = patient_loop = False
        claimed = 0
        for found in document.segments[transaction.start + 1 : transaction.end]:
            tag = found[0]
            if tag == "HL":
                counts["patients"] += claimed > 0
                in_claim, claimed = False, 0
                patient_loop = len(found) > 3 and found[3] in ("22", "23")
            elif tag == "CLM":
                in_claim = True
                counts["claims"] += 1
                counts["encounters"] += 1
                claimed += patient_loop
            elif tag == "LX" and in_claim:
                counts["charges"] += 1
        counts["patients"] += claimed > 0
    return counts


def check(parsed: ParsedFile, segments: int, expected: int) -> None:
    assert parsed.rows_read == expected
    assert all(1 <= b.line <= segments and b.detail for b in parsed.bad_rows)
    assert all(1 <= p <= segments for p in parsed.rows.column(POSITION).to_pylist())
    for name in parsed.rows.column_names:
        if name != POSITION:
            assert all(v is None or isinstance(v, str) for v in parsed.rows.column(name).to_pylist())


def read_everything(data: bytes) -> None:
    for found_format in FORMATS:
        found_format.sniff(Source(data, "file.x12"))
        try:
            found_format.inspect(Source(data, "file.x12"))
        except MalformedFileError as refused:
            assert str(refused) and "\n" not in str(refused)
            for dataset in found_format.datasets:
                with pytest.raises(MalformedFileError):
                    found_format.read(data, dataset)
            continue
        document = read_document(data)
        counted = (remittance_records if found_format is REMITTANCES_FORMAT else claim_records)(document)
        for dataset in found_format.datasets:
            check(found_format.read(data, dataset), len(document.segments), counted[dataset])


@strategies.composite
def mutated(draw: strategies.DrawFn) -> bytes:
    data = bytearray(draw(strategies.sampled_from(SAMPLES)))
    for _ in range(draw(strategies.integers(1, 4))):
        kind = draw(strategies.sampled_from(["drop", "duplicate", "change", "shuffle", "segment"]))
        # Mostly after the ISA header, so that most mutated files are still read.
        first = 107 if len(data) > 200 and draw(strategies.integers(0, 4)) else 0
        at = draw(strategies.integers(first, max(len(data) - 1, first)))
        size = draw(strategies.integers(1, 12))
        if kind == "drop":
            del data[at : at + size]
        elif kind == "duplicate":
            data[at:at] = data[at : at + size]
        elif kind == "change":
            data[at : at + 1] = bytes([draw(strategies.integers(0, 255))])
        else:
            pieces = bytes(data).split(b"~")
            if kind == "shuffle" and len(pieces) > 3:
                start = draw(strategies.integers(1, len(pieces) - 2))
                window = pieces[start : start + draw(strategies.integers(2, 8))]
                pieces[start : start + len(window)] = draw(strategies.permutations(window))
            elif len(pieces) > 3:
                index = draw(strategies.integers(1, len(pieces) - 2))
                pieces.insert(index, pieces[index])
            data = bytearray(b"~".join(pieces))
    return bytes(data)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(mutated())
def test_mutated_samples_lose_no_record(data: bytes) -> None:
    read_everything(data)


@FAST
@given(strategies.binary(max_size=400))
def test_random_bytes_are_refused_cleanly(data: bytes) -> None:
    read_everything(data)


@FAST
@given(strategies.sampled_from(SAMPLES), strategies.binary(max_size=200))
def test_an_isa_followed_by_anything_is_refused_or_read(sample: bytes, tail: bytes) -> None:
    read_everything(sample[:106] + tail)


@settings(max_examples=60, deadline=None)
@given(strategies.sampled_from(SAMPLES), strategies.data())
def test_a_file_cut_anywhere_is_refused_or_read(sample: bytes, data: strategies.DataObject) -> None:
    read_everything(sample[: data.draw(strategies.integers(0, len(sample)))])
