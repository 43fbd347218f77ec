"""Every HL7 v2 sample file, as LF (as published), CR and CRLF: the rows equal what plain
splitting of the file gives."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from practicelake.errors import MalformedFileError
from practicelake.formats import registry
from practicelake.formats.base import Source
from practicelake.formats.hl7v2.reader import FORMAT

SAMPLES = Path(__file__).parents[2] / "fixtures" / "formats" / "hl7v2"
FILES = sorted(SAMPLES.glob("*.hl7"))
ENDINGS = {"lf": b"\n", "cr": b"\r", "crlf": b"\r\n"}
STATUS = {"S12": "booked", "S13": "booked", "S14": "booked", "S15": "cancelled", "S16": "cancelled"}
STATUS |= {"S17": "entered-in-error", "S26": "noshow"}


def _with(data: bytes, ending: str) -> bytes:
    return data.replace(b"\n", ENDINGS[ending])


def _segments(path: Path) -> list[list[str]]:
    return [line.split("|") for line in path.read_text().split("\n") if line]


def _field(segments: list[list[str]], name: str, number: int, component: int = 1) -> str:
    """Field `number` of the first `name` segment that has it (MSH counted from its separator)."""
    for fields in segments:
        if fields[0] != name:
            continue
        shift = 1 if name == "MSH" else 0
        if len(fields) > number - shift and fields[number - shift]:
            value = fields[number - shift].split("~")[0].split("^")
            if len(value) >= component and value[component - 1]:
                return value[component - 1].split("&")[0]
    return ""


def _time(text: str) -> str:
    digits, offset = text[:-5], text[-5:]
    digits = digits.ljust(14, "0")
    stamp = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]} {digits[8:10]}:{digits[10:12]}:{digits[12:14]}"
    return f"{stamp}{offset[:3]}:{offset[3:]}"


def test_every_sample_is_claimed_by_its_content() -> None:
    assert len(FILES) == 25
    for path in FILES:
        for ending in ENDINGS:
            source = Source(_with(path.read_bytes(), ending), path.name)
            assert FORMAT.sniff(source), path.name
    assert registry.get("hl7v2") is FORMAT


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("path", [p for p in FILES if p.name.startswith("SIU")], ids=lambda p: p.name)
def test_siu_sample(path: Path, ending: str) -> None:
    segments = _segments(path)
    data = _with(path.read_bytes(), ending)
    assert FORMAT.inspect(Source(data, path.name)).datasets == ("appointments",)
    parsed = FORMAT.read(data, "appointments")
    assert parsed.bad_rows == []
    assert parsed.rows_read == 1
    (row,) = parsed.rows.to_pylist()
    event = _field(segments, "MSH", 9, 2)
    sent = _time(_field(segments, "MSH", 7))
    ais_minutes = _field(segments, "AIS", 7)
    assert row == {
        "appointment_id": _field(segments, "SCH", 2),
        "patient_id": _field(segments, "PID", 3),
        "provider_id": _field(segments, "AIP", 3),
        "location_id": _field(segments, "AIL", 3),
        "booked_at": sent if event == "S12" else None,
        "start_at": _time(_field(segments, "TQ1", 7)),
        "duration_minutes": ais_minutes or _field(segments, "SCH", 9),
        "appointment_type": None,  # EMERGENCY and CHECKUP (table 0276) say neither new nor follow-up
        "status": STATUS[event],
        "cancelled_at": sent if event in ("S15", "S16") else None,
        "notes": row["notes"],
        "raw_line": 1,
    }
    assert row["notes"]


def test_siu_samples_in_one_file_fold_into_one_appointment() -> None:
    """All the samples carry filler id 36996: their 15 events fold, the latest by MSH-7 winning."""
    siu = [p for p in FILES if p.name.startswith("SIU")]
    data = b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in siu)
    starts: list[int] = []
    events: list[tuple[str, str, Path]] = []
    for path in siu:
        segments = _segments(path)
        events.append((_time(_field(segments, "MSH", 7)), _field(segments, "MSH", 9, 2), path))
        starts.append(sum(len(_segments(p)) for p in siu[: len(starts)]) + 1)
    latest = max(range(len(events)), key=lambda i: (events[i][0], i))
    parsed = FORMAT.read(data, "appointments")
    (row,) = parsed.rows.to_pylist()
    assert row["status"] == STATUS[events[latest][1]] == "noshow"
    assert row["raw_line"] == starts[latest]
    assert row["booked_at"] == min(t for t, e, _ in events if e == "S12")
    assert row["cancelled_at"] is None


@pytest.mark.parametrize("ending", ENDINGS)
@pytest.mark.parametrize("path", [p for p in FILES if p.name.startswith("DFT-P03")], ids=lambda p: p.name)
def test_dft_p03_sample(path: Path, ending: str) -> None:
    lines = [line.split("|") for line in path.read_text().split("\n") if line]
    charges = [f for f in lines if f[0] == "FT1"]
    parsed = FORMAT.read(_with(path.read_bytes(), ending), "charges")
    assert parsed.bad_rows == []
    assert parsed.rows_read == len(charges) == 2
    rows = parsed.rows.to_pylist()
    total = sum(Decimal(f[11].split("&")[0]) for f in charges)
    assert sum(Decimal(r["amount"]) for r in rows) == total == Decimal("220")
    assert [r["units"] for r in rows] == [f[10] for f in charges]
    assert [r["procedure_code"] for r in rows] == [f[25].split("^")[0] for f in charges] == ["71045", "99011"]
    assert [r["modifier"] for r in rows] == ["26", None]
    assert [r["charge_id"] for r in rows] == ["12345", "MSG00001-2"]
    assert {r["service_date"] for r in rows} == {"2019-11-22"}
    assert {r["encounter_id"] for r in rows} == {_field(lines, "PV1", 19)}
    # The second line names no performer nor orderer: the visit's attending doctor (PV1-7).
    assert [r["provider_id"] for r in rows] == [charges[0][20].split("^")[0], _field(lines, "PV1", 7)]
    assert {r["raw_line"] for r in rows} == {1}


@pytest.mark.parametrize("path", [p for p in FILES if p.name[:3] == "BAR" or "P11" in p.name], ids=lambda p: p.name)
def test_messages_of_other_types_feed_no_dataset(path: Path) -> None:
    with pytest.raises(MalformedFileError, match="no SIU, DFT P03 or ADT A04/A08 message"):
        FORMAT.inspect(Source(path.read_bytes(), path.name))


def test_other_types_are_named_in_a_warning_beside_a_supported_one() -> None:
    data = b"".join(
        (SAMPLES / name).read_bytes().rstrip(b"\n") + b"\n"
        for name in ("BAR-P01-01.hl7", "DFT-P11-01.hl7", "DFT-P03-01.hl7", "BAR-P12-01.hl7")
    )
    inspection = FORMAT.inspect(Source(data, "mixed.hl7"))
    assert inspection.datasets == ("charges",)
    assert inspection.warnings == ("3 message(s) of types no dataset reads: BAR^P01 x1, BAR^P12 x1, DFT^P11 x1",)
    assert FORMAT.read(data, "charges").rows_read == 2
