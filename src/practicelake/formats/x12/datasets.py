"""The rows of one contract dataset as a format builds them: text columns named as the
contract's (but `practice_id`, which the transform fills), each row with its position, and
the records that could not be read."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import pyarrow as pa

from practicelake.contracts import BY_DATASET
from practicelake.formats.base import POSITION, BadRow, ParsedFile


class DatasetRows:
    """Rows of `dataset` restricted to the columns the caller reads (None: all)."""

    def __init__(self, dataset: str, columns: Collection[str] | None = None) -> None:
        names = [c.name for c in BY_DATASET[dataset].columns if c.name != "practice_id"]
        self.columns = [name for name in names if columns is None or name in columns]
        self.values: dict[str, list[str | None]] = {name: [] for name in self.columns}
        self.positions: list[int] = []
        self.bad_rows: list[BadRow] = []

    def add(self, position: int, row: Mapping[str, str | None]) -> None:
        for name in self.columns:
            self.values[name].append(row.get(name))
        self.positions.append(position)

    def bad(self, position: int, detail: str, rule: str) -> None:
        self.bad_rows.append(BadRow(line=position, detail=detail, rule=rule))

    def parsed(self, warnings: Collection[str] = ()) -> ParsedFile:
        arrays = {name: pa.array(self.values[name], pa.string()) for name in self.columns}
        arrays[POSITION] = pa.array(self.positions, pa.int64())
        return ParsedFile(rows=pa.table(arrays), bad_rows=self.bad_rows, warnings=tuple(warnings))
