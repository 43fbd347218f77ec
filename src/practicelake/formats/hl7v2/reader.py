"""HL7 v2 files (messages one after another, batches or not) as practicelake's datasets: SIU
scheduling messages as `appointments` (scheduling.py), DFT^P03 charges as `charges`
(charges.py), ADT^A04/A08 registrations as `patients` (patients.py). Messages of any other type
(BAR, DFT^P11, other ADT events, acknowledgements) feed no dataset: they are counted in a warning.

python-hl7 (installed as `hl7`) is not used: it splits segments on CR only (an LF file comes
back as one segment, silently), gives no segment positions, and a truncated MSH raises an
IndexError from inside it. The reading here (messages.py, segments.py) is small, keeps each
segment's index in the file, and honours each MSH's own encoding characters.

Asked for it, every row carries when its source recorded it (formats.base.RECORDED): the time
of the latest message it was folded from, or of the DFT message of a charge (Message.time).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable

import pyarrow as pa

from practicelake.errors import MalformedFileError
from practicelake.formats.base import POSITION, RECORDED, BadRow, Inspection, ParsedFile, Source
from practicelake.formats.hl7v2 import charges, patients, scheduling
from practicelake.formats.hl7v2.messages import BOM, HL7File, Message, read_file
from practicelake.formats.hl7v2.segments import encoding_of

APPOINTMENTS, CHARGES, PATIENTS = "appointments", "charges", "patients"
DATASETS = (APPOINTMENTS, CHARGES, PATIENTS)
COLUMNS = {APPOINTMENTS: scheduling.COLUMNS, CHARGES: charges.COLUMNS, PATIENTS: patients.COLUMNS}
NONE_SUPPORTED = "no SIU, DFT P03 or ADT A04/A08 message"
# How far into a file sniff looks for its first MSH (past an FHS/BHS batch header).
SNIFF_BYTES = 4096
BOM_BYTES = BOM.encode()
FIRST_MSH = re.compile(r"(?:^|[\r\n])MSH")


def dataset_of(message: Message) -> str | None:
    code, event = message.kind
    if code == "SIU" and event in scheduling.EVENTS:
        return APPOINTMENTS
    if code == "DFT" and event in charges.EVENTS:
        return CHARGES
    if code == "ADT" and event in patients.EVENTS:
        return PATIENTS
    return None


def _warnings(hl7_file: HL7File) -> tuple[str, ...]:
    others = sorted(Counter(m.name for m in hl7_file.messages if dataset_of(m) is None).items())
    found = hl7_file.notes()
    if others:
        listed = ", ".join(f"{name} x{count}" for name, count in others)
        found.append(f"{sum(c for _, c in others)} message(s) of types no dataset reads: {listed}")
    return tuple(found)


def _table(rows: Iterable[dict[str, str | None]], positions: list[int], columns: Collection[str]) -> pa.Table:
    listed = list(rows)
    table = {name: pa.array([row.get(name) for row in listed], pa.string()) for name in columns}
    table[POSITION] = pa.array(positions, pa.int64())
    return pa.table(table)


class HL7v2:
    name = "hl7v2"
    unit = "segment"
    description = "HL7 v2 messages: SIU appointments, DFT^P03 charges, ADT^A04/A08 patients"

    def sniff(self, source: Source) -> bool:
        head = source.data[:SNIFF_BYTES].removeprefix(BOM_BYTES).decode("latin-1").lstrip(" \t\r\n\x0b")
        if not head.startswith(("MSH", "FHS", "BHS")):
            return False
        first = FIRST_MSH.search(head)
        return first is not None and encoding_of(head[first.end() - 3 :]) is not None

    def inspect(self, source: Source) -> Inspection:
        hl7_file = self._file(source.data)
        fed = {dataset_of(m) for m in hl7_file.messages}
        datasets = tuple(d for d in DATASETS if d in fed)
        if not datasets:
            raise MalformedFileError(f"{NONE_SUPPORTED} (segment 1 to {hl7_file.segment_count})")
        return Inspection(datasets, _warnings(hl7_file))

    def read(self, data: bytes, dataset: str, columns: Collection[str] | None = None) -> ParsedFile:
        if dataset not in COLUMNS:
            raise MalformedFileError(f"HL7 v2 files feed {', '.join(DATASETS)}, not {dataset}")
        hl7_file = self._file(data)
        messages = [m for m in hl7_file.messages if dataset_of(m) == dataset]
        if not any(dataset_of(m) for m in hl7_file.messages):
            raise MalformedFileError(f"{NONE_SUPPORTED} (segment 1 to {hl7_file.segment_count})")
        warnings = list(_warnings(hl7_file))
        bad: list[BadRow]
        if dataset == APPOINTMENTS:
            rows, positions, bad = scheduling.read(messages)
        elif dataset == PATIENTS:
            rows, positions, bad = patients.read(messages)
        else:
            rows, positions, bad, other = charges.read(messages)
            if other:
                warnings.append(f"{other} FT1 segment(s) that are not charges (FT1-6 other than CG) read past")
        every = COLUMNS[dataset]
        wanted = list(every) if columns is None else [c for c in (*every, RECORDED) if c in columns]
        return ParsedFile(_table(rows, positions, wanted), bad, tuple(warnings))

    @staticmethod
    def _file(data: bytes) -> HL7File:
        hl7_file = read_file(data)
        if not any(m.readable for m in hl7_file.messages):
            first = hl7_file.messages[0].position
            raise MalformedFileError(f"segment {first}: no MSH of the file declares valid encoding characters")
        return hl7_file


FORMAT = HL7v2()
