"""A raw file's rows of one entity, whatever its format (formats.registry): the columns the
transform reads (checks.read_columns), in contract order, as text. A column the format does not
have is empty, but for `practice_id`: a format without it (all but practicelake's CSV and the
mappings that name it) gives rows of the practice the file was ingested for. The columns the
cleaned zone does not keep are never asked of the format, so they stay in raw. Besides the
position, a format is asked when its source recorded each row (formats.base.RECORDED); the
transform's rows always carry it, empty where the format does not say, so that the rows of
files of every format stack into one chunk."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import PurePosixPath

import pyarrow as pa

from practicelake.clean.checks import read_columns
from practicelake.contracts import BY_DATASET, Contract
from practicelake.formats import registry
from practicelake.formats.base import POSITION, RECORDED, Format, MultiDatasetFormat, ParsedFile
from practicelake.formats.compressed import expanded
from practicelake.formats.mapping import MappedCsv, load_mapping
from practicelake.ingest.raw import RawZone

KEPT_BYTES = 512 * 1024 * 1024
"""Rows of a file's later datasets held between the transform's passes, at most."""


class FileFormats:
    """For one transform run: the format each manifest row's file is read as (the one it was
    ingested as; for a CSV read through a mapping, that mapping as the raw zone kept it, read
    once), and each file's rows. A file that feeds several datasets, in a format that reads
    them at once (base.MultiDatasetFormat), is read once: the rows of the datasets still to
    come wait for their pass, within KEPT_BYTES, beyond which they are read again then."""

    def __init__(self, raw: RawZone, pending: Mapping[str, Collection[str]] | None = None) -> None:
        self.raw = raw
        self.pending = {sha: set(datasets) for sha, datasets in (pending or {}).items()}
        self._mapped: dict[str, Format] = {}
        self._kept: dict[tuple[str, str], ParsedFile] = {}
        self._kept_bytes = 0

    def rows(self, entry: Mapping[str, object], contract: Contract, practice_id: str) -> ParsedFile:
        """The file's rows of `contract`'s dataset (read_rows), with RECORDED whatever its format."""
        return _with_recorded(self._read(entry, contract, practice_id))

    def _read(self, entry: Mapping[str, object], contract: Contract, practice_id: str) -> ParsedFile:
        sha, key = str(entry["sha256"]), str(entry["object_key"])
        self.pending.get(sha, set()).discard(contract.dataset)
        kept = self._kept.pop((sha, contract.dataset), None)
        if kept is not None:
            self._kept_bytes -= kept.rows.nbytes
            return kept
        source_format = self.of(entry)
        later = sorted(self.pending.get(sha, ()))
        if not later or not isinstance(source_format, MultiDatasetFormat):
            return read_rows(source_format, expanded(self.raw.read(key, sha)), contract, practice_id)
        wanted = {d: asked(BY_DATASET[d]) for d in [contract.dataset, *later]}
        found = source_format.read_datasets(expanded(self.raw.read(key, sha)), wanted)
        for dataset in later:
            rows = normalised(found[dataset], BY_DATASET[dataset], practice_id)
            if self._kept_bytes + rows.rows.nbytes <= KEPT_BYTES:
                self._kept[(sha, dataset)] = rows
                self._kept_bytes += rows.rows.nbytes
        return normalised(found[contract.dataset], contract, practice_id)

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


def asked(contract: Contract) -> tuple[str, ...]:
    """What a format is asked for: the columns the transform reads, and RECORDED."""
    return (*read_columns(contract.entity), RECORDED)


def read_rows(source_format: Format, data: bytes, contract: Contract, practice_id: str) -> ParsedFile:
    parsed = source_format.read(data, contract.dataset, asked(contract))
    return normalised(parsed, contract, practice_id)


def normalised(parsed: ParsedFile, contract: Contract, practice_id: str) -> ParsedFile:
    """A format's rows in the columns the transform reads, in contract order, as text; RECORDED
    after the position where the format gave it."""
    wanted = read_columns(contract.entity)
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
    if RECORDED in rows.column_names:
        columns[RECORDED] = rows[RECORDED].cast(pa.string())
    return ParsedFile(pa.table(columns), parsed.bad_rows, parsed.warnings)


def _with_recorded(parsed: ParsedFile) -> ParsedFile:
    rows = parsed.rows
    if RECORDED in rows.column_names:
        return parsed
    rows = rows.append_column(RECORDED, pa.nulls(rows.num_rows, pa.string()))
    return ParsedFile(rows, parsed.bad_rows, parsed.warnings)
