"""The latest record wins by when its source recorded it, across files: an HL7 v2 message's time,
a FHIR resource's meta.lastUpdated. Real sample files, received in every order, give the same
cleaned rows; ties and rows without a recorded time fall back to the order of files; a lakehouse
made before the cleaned tables had the column upgrades; nothing is lost (read = cleaned +
quarantined + duplicates, per file and dataset)."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clean.lake import export, rows
from formats.hl7v2.hl7_messages import siu
from lakes import local_settings
from practicelake.clean.reconcile import reconcile
from practicelake.contracts import BY_DATASET, CONTRACTS
from practicelake.curate.build import cleaned_inputs
from practicelake.curate.project import load_models
from practicelake.formats.base import RECORDED
from practicelake.ingest.manifest import read_manifest
from practicelake.pipeline import Lakehouse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "formats"
SIU = FIXTURES / "hl7v2"
APPOINTMENT = FIXTURES / "fhir" / "r4-examples" / "scheduling" / "Appointment-example.json"
MSH_7 = re.compile(r"^MSH\|[^|]*\|(?:[^|]*\|){4}([0-9]{12})([+-][0-9]{4})\|", re.MULTILINE)
TRIGGER = re.compile(r"^MSH\|(?:[^|]*\|){7}SIU\^(S[0-9]{2})", re.MULTILINE)
STATUS = {"S12": "booked", "S13": "booked", "S14": "booked", "S15": "cancelled", "S16": "cancelled"}
STATUS |= {"S17": "entered-in-error", "S26": "noshow"}
# Received in every order below: one appointment (SCH-2 36996), messages from 1989 to 2021, two
# pairs of them with the same MSH-7 (S13/S14 and S15/S17), the latest (S26-01) alone.
RECEIVED = ["SIU-S12-01.hl7", "SIU-S13-01.hl7", "SIU-S14-01.hl7", "SIU-S15-01.hl7", "SIU-S16-01.hl7",
            "SIU-S17-01.hl7", "SIU-S26-01.hl7"]  # fmt: skip
CSV_HEADER = ",".join(BY_DATASET["appointments"].column_names)


def _message_time(path: Path) -> datetime:
    match = MSH_7.search(path.read_text(encoding="latin-1"))
    assert match is not None
    return datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%z")


def _lake(root: Path) -> Lakehouse:
    return Lakehouse.open(local_settings(root))


def _received(lakehouse: Lakehouse, practice: str, *paths: Path, transform: bool = True) -> None:
    """Each file received on its own, in this order (its own receipt time)."""
    for path in paths:
        assert lakehouse.ingest(practice, [path]).count("ingested") == 1
    if transform:
        lakehouse.transform()


def _sha(lakehouse: Lakehouse, name: str) -> str:
    (sha,) = {r["sha256"] for r in read_manifest(lakehouse.catalog).to_pylist() if r["source_name"] == name}
    return str(sha)


def _appointments(lakehouse: Lakehouse) -> list[dict[str, Any]]:
    return sorted(rows(lakehouse, "cleaned.appointment"), key=lambda r: r["appointment_id"])


def _balanced(lakehouse: Lakehouse) -> None:
    """Per file and dataset: the records read are the rows cleaned, quarantined and superseded."""
    found = reconcile(lakehouse.catalog).to_pylist()
    assert found and all(r["status"] == "loaded" and r["balanced"] for r in found), found
    loads = rows(lakehouse, "ops.file_loads")
    assert sum(r["rows_read"] for r in loads) == sum(r["rows_cleaned"] + r["rows_quarantined"] for r in found) + sum(
        r["rows_duplicate"] for r in found
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _now() -> tuple[str, datetime]:
    """Now as an HL7 time (to the ten-thousandth of a second: after what was received before),
    and as the naive UTC instant the cleaned zone keeps."""
    now = datetime.now(UTC)
    now = now.replace(tzinfo=None, microsecond=now.microsecond - now.microsecond % 100)
    return f"{now:%Y%m%d%H%M%S}.{now.microsecond // 100:04d}+0000", now


def test_a_message_received_later_but_recorded_earlier_does_not_win(tmp_path: Path) -> None:
    cancel, reschedule = SIU / "SIU-S15-01.hl7", SIU / "SIU-S13-01.hl7"
    assert _message_time(reschedule) < _message_time(cancel)
    lakehouse = _lake(tmp_path)
    _received(lakehouse, "P001", cancel)
    _received(lakehouse, "P001", reschedule)  # a resend of an older message, received after
    (row,) = _appointments(lakehouse)
    assert (row["status"], row["raw_file_sha256"]) == ("cancelled", _sha(lakehouse, cancel.name))
    assert row[RECORDED] == _utc(_message_time(cancel))
    (lost,) = rows(lakehouse, "ops.duplicates")
    assert (lost["raw_file_sha256"], lost["kept_raw_file_sha256"]) == (
        _sha(lakehouse, reschedule.name),
        row["raw_file_sha256"],
    )
    _balanced(lakehouse)


def _fhir(path: Path, status: str, last_updated: str | None) -> Path:
    """The R4 Appointment example as one more version of itself."""
    resource = json.loads(APPOINTMENT.read_text(encoding="utf-8"))
    resource["status"] = status
    if last_updated is not None:
        resource["meta"] = {"lastUpdated": last_updated}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(resource), encoding="utf-8")
    return path


def test_fhir_versions_of_a_resource_are_ordered_by_meta_last_updated(tmp_path: Path) -> None:
    booked = _fhir(tmp_path / "in" / "booked.json", "booked", "2024-01-03T09:00:00Z")
    cancelled = _fhir(tmp_path / "in" / "cancelled.json", "cancelled", "2024-01-03T10:00:00+02:00")
    lakehouse = _lake(tmp_path / "lake")
    _received(lakehouse, "P001", booked, cancelled)
    (row,) = _appointments(lakehouse)
    # 10:00 at +02:00 is 08:00 UTC: the cancellation, received after, was recorded an hour before.
    assert (row["status"], row[RECORDED]) == ("booked", datetime(2024, 1, 3, 9, 0))
    unsaid = _fhir(tmp_path / "in" / "v3.json", "noshow", None)  # received last, no time of its own
    _received(lakehouse, "P001", unsaid)
    (row,) = _appointments(lakehouse)
    assert (row["status"], row[RECORDED]) == ("noshow", None)  # its file's receipt is after 2024
    _balanced(lakehouse)


@pytest.mark.slow
@settings(max_examples=8, deadline=None)
@given(st.permutations(RECEIVED), st.lists(st.booleans(), min_size=len(RECEIVED), max_size=len(RECEIVED)))
def test_any_order_of_receipt_gives_the_same_cleaned_row(order: list[str], runs: list[bool]) -> None:
    latest = max((SIU / name for name in RECEIVED), key=_message_time)
    match = TRIGGER.search(latest.read_text(encoding="latin-1"))
    assert match is not None
    with tempfile.TemporaryDirectory() as root:
        lakehouse = _lake(Path(root))
        for name, transform in zip(order, runs, strict=True):  # some files transformed as they come
            _received(lakehouse, "P001", SIU / name, transform=transform)
        lakehouse.transform()
        (row,) = _appointments(lakehouse)
        assert row["raw_file_sha256"] == _sha(lakehouse, latest.name)
        assert (row["status"], row[RECORDED]) == (STATUS[match[1]], _utc(_message_time(latest)))
        assert len(rows(lakehouse, "ops.duplicates")) == len(RECEIVED) - 1
        _balanced(lakehouse)


@pytest.mark.parametrize("first", ["SIU-S13-01.hl7", "SIU-S14-01.hl7"])
def test_messages_of_the_same_time_fall_back_to_the_order_of_receipt(tmp_path: Path, first: str) -> None:
    (second,) = {"SIU-S13-01.hl7", "SIU-S14-01.hl7"} - {first}
    assert _message_time(SIU / first) == _message_time(SIU / second)
    lakehouse = _lake(tmp_path)
    _received(lakehouse, "P001", SIU / first, SIU / second)
    (row,) = _appointments(lakehouse)
    assert row["raw_file_sha256"] == _sha(lakehouse, second)


def test_messages_of_the_same_time_received_together_fall_back_to_their_hashes(tmp_path: Path) -> None:
    lakehouse = _lake(tmp_path)
    pair = [SIU / "SIU-S15-01.hl7", SIU / "SIU-S17-01.hl7"]
    assert lakehouse.ingest("P001", pair).count("ingested") == 2  # one receipt time, one batch
    lakehouse.transform()
    (row,) = _appointments(lakehouse)
    shas = {_sha(lakehouse, p.name): status for p, status in zip(pair, ("cancelled", "entered-in-error"), strict=True)}
    assert (row["raw_file_sha256"], row["status"]) == max(shas.items())


def _csv(root: Path, batch: str, status: str) -> Path:
    fields = ["P002", "A1", "PAT1", "DR1", "ROOM1", "", "2024-03-11 10:00", "30", "", status, "", "", "", "", ""]
    return export(root, "P002", batch, "appointments", CSV_HEADER, ",".join(fields))


def _hl7(root: Path, name: str, event: str, time: str) -> Path:
    path = root / "hl7" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(siu(event, time, status="Complete" if event == "S14" else ""), encoding="utf-8")
    return path


def test_an_export_received_after_a_message_was_recorded_wins_over_it(tmp_path: Path) -> None:
    # An HL7 message of 2024 and a CSV export without times, received in either order: the
    # export was current when it was received, after the message was recorded.
    for order in ("hl7 first", "csv first"):
        root = tmp_path / order.replace(" ", "_")
        lakehouse = _lake(root / "lake")
        message, csv = _hl7(root, "book.hl7", "S12", "202403011000-0500"), _csv(root, "2024-03", "noshow")
        _received(lakehouse, "P002", *((message, csv) if order == "hl7 first" else (csv, message)))
        (row,) = _appointments(lakehouse)
        assert (row["status"], row[RECORDED]) == ("noshow", None), order
        _balanced(lakehouse)


def test_a_practice_that_moves_to_hl7_gets_the_messages_recorded_after_its_last_export(tmp_path: Path) -> None:
    lakehouse = _lake(tmp_path / "lake")
    _received(lakehouse, "P002", _csv(tmp_path, "2024-03", "booked"))
    text, now = _now()  # after the export was received, before the message is
    _received(lakehouse, "P002", _hl7(tmp_path, "done.hl7", "S14", text))
    (row,) = _appointments(lakehouse)
    assert (row["status"], row[RECORDED]) == ("fulfilled", now)
    _balanced(lakehouse)


def test_a_recorded_time_past_its_files_receipt_counts_as_the_receipt(tmp_path: Path) -> None:
    # A sender whose clock says 2099 must not win for good: the export received after it wins.
    lakehouse = _lake(tmp_path / "lake")
    _received(lakehouse, "P002", _hl7(tmp_path, "future.hl7", "S14", "209901011000+0000"))
    _received(lakehouse, "P002", _csv(tmp_path, "2024-03", "noshow"))
    (row,) = _appointments(lakehouse)
    assert row["status"] == "noshow"
    _balanced(lakehouse)


def test_an_export_batch_without_times_keeps_the_order_of_batches(tmp_path: Path) -> None:
    # The order without recorded times is unchanged: a later batch wins even if received first.
    lakehouse = _lake(tmp_path / "lake")
    _received(lakehouse, "P002", _csv(tmp_path, "2024-04", "noshow"), _csv(tmp_path, "2024-03", "booked"))
    (row,) = _appointments(lakehouse)
    assert row["status"] == "noshow"


def test_a_lakehouse_made_before_the_recorded_time_upgrades(tmp_path: Path) -> None:
    lakehouse = _lake(tmp_path)
    cancel = SIU / "SIU-S15-01.hl7"
    _received(lakehouse, "P001", cancel)
    for contract in CONTRACTS:  # the cleaned tables as they were made before the column
        table = lakehouse.catalog.load_table(f"cleaned.{contract.entity}")
        with table.update_schema() as evolution:
            evolution.delete_column(RECORDED)
    assert RECORDED not in lakehouse.catalog.load_table("cleaned.appointment").schema().column_names
    _received(lakehouse, "P001", SIU / "SIU-S12-01.hl7")  # older than the cancellation, received after
    for contract in CONTRACTS:
        assert RECORDED in lakehouse.catalog.load_table(f"cleaned.{contract.entity}").schema().column_names
    (row,) = _appointments(lakehouse)
    # The old row's time is not known: it stands for its file's receipt, after 2021.
    assert (row["status"], row["raw_file_sha256"], row[RECORDED]) == ("cancelled", _sha(lakehouse, cancel.name), None)
    # A no-show recorded now, after the old file's receipt, wins over the row of unknown time.
    sample = (SIU / "SIU-S26-01.hl7").read_text(encoding="latin-1")
    text, now = _now()
    noshow = tmp_path / "now" / "SIU-S26-now.hl7"
    noshow.parent.mkdir()
    noshow.write_text(MSH_7.sub(lambda m: m[0].replace(m[1] + m[2], text), sample, count=1), encoding="latin-1")
    _received(lakehouse, "P001", noshow)
    (row,) = _appointments(lakehouse)
    assert (row["status"], row[RECORDED]) == ("noshow", now)
    _balanced(lakehouse)


def test_the_curated_zone_never_reads_the_recorded_time(tmp_path: Path) -> None:
    lakehouse = _lake(tmp_path)
    _received(lakehouse, "P001", SIU / "SIU-S26-01.hl7")
    inputs = cleaned_inputs(lakehouse.catalog, load_models(), ["P001"])
    assert "cleaned.appointment" in inputs
    assert all(RECORDED not in table.column_names for table in inputs.values())
