"""Random and damaged HL7 v2 files: rows, positioned bad rows or MalformedFileError, never any
other exception, and every record of each dataset accounted for."""

from __future__ import annotations

import re
from pathlib import Path

from hl7_messages import adt, dft, ft1, siu
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practicelake.errors import MalformedFileError
from practicelake.formats.base import ParsedFile, Source
from practicelake.formats.hl7v2.reader import DATASETS, FORMAT

SAMPLES = Path(__file__).parents[2] / "fixtures" / "formats" / "hl7v2"
SAMPLE_FILES = [p.read_bytes() for p in sorted(SAMPLES.glob("*.hl7"))]
BUILT = [
    (siu("S12", "202403011000", filler="A1") + siu("S15", "202403021000", filler="A1")).encode(),
    (
        siu("S13", "202403011000-0500", filler="A2") + dft(ft1("1"), ft1("2", charge="T2", extended="", unit="4"))
    ).encode(),
    (adt("A04", "202401011000") + adt("A08", "202402011000") + siu("S26", "20240301", filler="A3")).encode(),
    ("FHS|^~\\&\rBHS|^~\\&\r" + dft(ft1("1", kind="PY")) + "BTS|1\rFTS|1\r").encode(),
    (dft(ft1("1", extended="", unit="x"), ft1("2", charge="")) + siu("S14", "soon", filler="A4")).encode(),
]
PATIENT_VALUES = ("PAT1", "DOE", "JANE", "19800102", "EVERYMAN", "PATID1234", "Springfield")
LINE_END = re.compile(rb"\r\n|\r|\n")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _segments(data: bytes) -> list[bytes]:
    data = data.removeprefix(b"\xef\xbb\xbf")
    return [s for s in (line.strip(b" \x0b\x1c") for line in LINE_END.split(data)) if s]


def _type_words(fields: list[bytes]) -> list[str]:
    """MSH-9's code and event: split on the declared component separator where MSH-2 declares
    four distinct separators, else on any character that is no letter or digit."""
    if len(fields) <= 8:
        return []
    declared = fields[1][:4].decode("latin-1")
    if len(declared) == 4 and len(set(declared)) == 4 and not any(c.isalnum() or c.isspace() for c in declared):
        return fields[8].decode("latin-1").split(declared[0])[:2]
    return re.split(r"[^A-Za-z0-9]+", fields[8].decode("latin-1"))


def _messages(data: bytes) -> list[tuple[int, str, str, list[bytes]]]:
    """(position, code, event, segment names) of each message, split without the reader."""
    found: list[tuple[int, str, str, list[bytes]]] = []
    separator = b"|"
    for position, text in enumerate(_segments(data), start=1):
        if text[:3] in (b"MSH", b"FHS", b"BHS") and (len(text) == 3 or not chr(text[3]).isalnum()):
            separator = text[3:4] or b"|"
            fields = text.split(separator)
            words = _type_words(fields)
            words = [w.upper() for w in words if w] + ["", ""]
            found.append((position, words[0], words[1], []) if text[:3] == b"MSH" else (position, "", "", []))
        elif text.split(separator)[0] in (b"BTS", b"FTS"):
            found.append((position, "", "", []))
        elif found:
            found[-1][3].append(text.split(separator)[0])
    return found


def _check(data: bytes) -> None:
    try:
        inspection = FORMAT.inspect(Source(data, "damaged.hl7"))
    except MalformedFileError as exc:
        assert "\n" not in str(exc)
        return
    count = len(_segments(data))
    messages = _messages(data)
    for dataset in DATASETS:
        parsed = FORMAT.read(data, dataset)
        assert (parsed.rows_read > 0) <= (dataset in inspection.datasets)
        _positions_and_details(parsed, count)
        if dataset == "charges":
            expected = 0
            for _, code, event, segments in messages:
                if (code, event) == ("DFT", "P03"):
                    expected += segments.count(b"FT1")
            other = sum(int(w.split()[0]) for w in parsed.warnings if "not charges" in w)
            assert parsed.rows_read + other == expected
        else:
            code, events = ("SIU", {"S12", "S13", "S14", "S15", "S16", "S17", "S26"})
            if dataset == "patients":
                code, events = ("ADT", {"A04", "A08"})
            starts = {p for p, c, e, _ in messages if c == code and e in events}
            assert {b.line for b in parsed.bad_rows} <= starts
            assert set(parsed.rows.column("raw_line").to_pylist()) <= starts
            assert (len(starts) > 0) <= (parsed.rows_read > 0) and parsed.rows_read <= len(starts)


def _positions_and_details(parsed: ParsedFile, count: int) -> None:
    for bad in parsed.bad_rows:
        assert 1 <= bad.line <= count
        assert not any(value in bad.detail for value in PATIENT_VALUES)
    assert all(1 <= p <= count for p in parsed.rows.column("raw_line").to_pylist())


@FAST
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _check(data)
    _check(b"MSH|^~\\&|" + data)


@FAST
@given(
    st.sampled_from(SAMPLE_FILES + BUILT),
    st.lists(
        st.tuples(
            st.sampled_from(["drop", "repeat", "change", "cut"]),
            st.integers(0, 10**6),
            st.binary(min_size=1, max_size=3),
        ),
        max_size=6,
    ),
)
def test_mutated_bytes(data: bytes, mutations: list[tuple[str, int, bytes]]) -> None:
    for kind, at, replacement in mutations:
        if not data:
            break
        i = at % len(data)
        if kind == "drop":
            data = data[:i] + data[i + 1 :]
        elif kind == "repeat":
            data = data[:i] + data[i : i + 8] + data[i:]
        elif kind == "change":
            data = data[:i] + replacement + data[i + 1 :]
        else:
            data = data[:i]
    _check(data)


@FAST
@given(
    st.sampled_from(SAMPLE_FILES + BUILT), st.randoms(use_true_random=False), st.sampled_from([b"\n", b"\r", b"\r\n"])
)
def test_shuffled_and_cut_segments(data: bytes, random: object, ending: bytes) -> None:
    segments = _segments(data)
    random.shuffle(segments)  # type: ignore[attr-defined]
    keep = random.randint(0, len(segments))  # type: ignore[attr-defined]
    _check(ending.join(segments[:keep]))


@FAST
@given(st.lists(st.sampled_from(BUILT + SAMPLE_FILES[10:]), min_size=1, max_size=6))
def test_whole_messages_in_any_order_are_all_read(files: list[bytes]) -> None:
    data = b"\r".join(f.rstrip(b"\r\n") for f in files)
    _check(data)
    messages = _messages(data)
    charges = FORMAT.read(data, "charges")
    ft1_count = sum(m[3].count(b"FT1") for m in messages if m[1:3] == ("DFT", "P03"))
    other = sum(int(w.split()[0]) for w in charges.warnings if "not charges" in w)
    assert charges.rows_read + other == ft1_count
