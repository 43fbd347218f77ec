"""A raw file's rows of one entity, whatever its format (formats.registry): the columns the
transform reads (checks.read_columns), in contract order, as text. A column the format does not
have is empty, but for `practice_id`: a format without it (all but practicelake's CSV and the
mappings that name it) gives rows of the practice the file was ingested for. The columns the
cleaned zone does not keep are never asked of the format, so they stay in raw."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath

import pyarrow as pa

from practicelake.clean.checks import read_columns
from practicelake.contracts import Contract
from practicelake.formats import registry
from practicelake.formats.base import POSITION, Format, ParsedFile
from practicelake.formats.mapping import MappedCsv, load_mapping
from practicelake.ingest.raw import RawZone


class FileFormats:
    """The format each manifest row's file is read as: the one it was ingested as, and for a
    CSV read through a mapping, that mapping as the raw zone kept it (read once per run)."""

    def __init__(self, raw: RawZone) -> None:
        self.raw = raw
        self._mapped: dict[str, Format] = {}

    def of(self, entry: Mapping[str, object]) -> Format:
        key = entry.get("mapping_key")
        if not key:
            return registry.get(str(entry.get("format") or registry.PRACTICELAKE_CSV))
        key = str(key)
        if key not in self._mapped:
            address = PurePosixPath(key).stem  # raw objects are named by their content address
            text = self.raw.read(key, address).decode("utf-8")
            self._mapped[key] = MappedCsv(load_mapping(text, PurePosixPath(key).name))
        return self._mapped[key]


def read_rows(source_format: Format, data: bytes, contract: Contract, practice_id: str) -> ParsedFile:
    wanted = read_columns(contract.entity)
    parsed = source_format.read(data, contract.dataset, wanted)
    rows = parsed.rows
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    for name in wanted:
        if name in rows.column_names:
            columns[name] = rows[name].cast(pa.string())
        elif name == "practice_id":
            columns[name] = pa.repeat(pa.scalar(practice_id, pa.string()), rows.num_rows)
        else:
            columns[name] = pa.nulls(rows.num_rows, pa.string())
    columns[POSITION] = rows[POSITION].cast(pa.int64())
    return ParsedFile(pa.table(columns), parsed.bad_rows, parsed.warnings)
