"""`practicelake mapping check`: a dry run of one export file through a mapping and the real
contract checks, writing nothing.

The file is read by `MappedCsv` as the ingest would read it, and each dataset's rows go
through clean.files.clean_chunk, the transform's own step (the same DuckDB query, the same
daylight-saving gaps), for a practice of the time zone and currency given. What comes back
is counts alone: rows accepted, rows quarantined by rule and column, the source columns the
mapping neither maps nor ignores. No identifier or value of the file is kept or shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import duckdb

from practicelake.clean.files import RawFile, RunContext, clean_chunk
from practicelake.clean.pseudonym import Pseudonyms
from practicelake.clean.read import read_rows
from practicelake.contracts import BY_DATASET
from practicelake.formats.base import POSITION, ParsedFile, Source
from practicelake.formats.mapping import MappedCsv, Mapping
from practicelake.formats.mapping.reader import layout

DRY_RUN_PRACTICE = "mapping-check"
DRY_RUN_SECRET = b"mapping check: pseudonyms computed and thrown away"


@dataclass(frozen=True)
class DatasetCheck:
    dataset: str
    rows_read: int  # the file's records of this dataset: accepted + quarantined
    accepted: int
    quarantined: Counter[tuple[str, str]]  # (rule, contract column or "") -> rows
    not_filled: tuple[str, ...]  # contract columns the mapping leaves empty

    @property
    def quarantined_rows(self) -> int:
        return sum(self.quarantined.values())


@dataclass(frozen=True)
class FileCheck:
    mapping: str
    file: str
    records: int  # the file's records and lines that are no record
    for_no_dataset: int  # records no dataset's filter takes
    unmapped: tuple[str, ...]  # source columns neither mapped nor ignored
    datasets: tuple[DatasetCheck, ...]


def _source_column(detail: str) -> str:
    """The column a row the mapping could not read is quarantined for: its detail begins with
    the source column (formats.mapping.values); a line that is no record has none."""
    column, found, _ = detail.partition(": ")
    return column if found and column.replace("_", "").replace("+", "").isalnum() else ""


def _judged(
    reader: MappedCsv, data: bytes, dataset: str, time_zone: str, currency: str, received_on: date
) -> tuple[DatasetCheck, ParsedFile]:
    """The dataset's rows through the transform's own steps: read as it reads them
    (clean.read), checked and normalised as it checks them (clean.files.clean_chunk)."""
    contract = BY_DATASET[dataset]
    parsed = read_rows(reader, data, contract, DRY_RUN_PRACTICE)
    context = RunContext(
        run_id="mapping-check",
        time_zone=lambda _: time_zone,
        currency=lambda _: currency,
        pseudonyms=Pseudonyms(lambda _: DRY_RUN_SECRET),
    )
    raw = RawFile(DRY_RUN_PRACTICE, "0" * 64, received_on, parsed)
    # In memory, and never spilled: a dry run writes nothing.
    with duckdb.connect(config={"preserve_insertion_order": True, "temp_directory": ""}) as con:
        chunk = clean_chunk(con, contract, [raw], context)
    quarantined = chunk.quarantined
    columns = [
        column or _source_column(detail)
        for column, detail in zip(
            quarantined["column_name"].to_pylist(), quarantined["detail"].to_pylist(), strict=True
        )
    ]
    by_rule = Counter(zip(quarantined["rule"].to_pylist(), columns, strict=True))
    filled = reader.mapping.file_of(dataset).datasets[dataset].columns
    not_filled = tuple(c for c in contract.column_names if c != "practice_id" and c not in filled)
    return DatasetCheck(dataset, parsed.rows_read, chunk.accepted.num_rows, by_rule, not_filled), parsed


def check_file(
    mapping: Mapping,
    data: bytes,
    name: str,
    *,
    time_zone: str = "America/New_York",
    currency: str = "USD",
    received_on: date | None = None,
) -> FileCheck:
    """What ingesting and transforming the file through `mapping` would accept and quarantine,
    for a practice of `time_zone` and `currency`. MalformedFileError when the file cannot be read."""
    reader = MappedCsv(mapping)
    source = Source(data=data, name=name)
    inspection = reader.inspect(source)
    file = reader.file_for(source)
    records = reader.records(data, file)
    layout_found = layout(file, records.header)
    day = received_on or date.today()
    unreadable = {u.line for u in records.unreadable}
    checks, taken = [], set()
    for dataset in inspection.datasets:
        found_rows, parsed = _judged(reader, data, dataset, time_zone, currency.upper(), day)
        taken |= set(parsed.rows[POSITION].to_pylist()) | {b.line for b in parsed.bad_rows} - unreadable
        checks.append(found_rows)
    total = len(records.lines) + len(unreadable)
    for_no_dataset = len(records.lines) - len(taken)
    return FileCheck(mapping.name, name, total, for_no_dataset, layout_found.unmapped, tuple(checks))
