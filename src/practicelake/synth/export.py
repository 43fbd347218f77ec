"""Writing a dataset's rows as one CSV per monthly batch, with the ground truth of its errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from practicelake.contracts import Contract, Kind
from practicelake.synth.dirty import inject
from practicelake.synth.formatting import lines, quoted, render
from practicelake.synth.frame import Period, Rows

TEXT_KINDS = (Kind.STRING, Kind.CODE_LIST)


@dataclass(frozen=True)
class FileTruth:
    """What one written file holds: rows = clean + quarantined + duplicates."""

    rows: int
    duplicates: int  # extra copies of a clean line, written again in the same file
    quarantined: int  # rows that break their contract

    @property
    def clean(self) -> int:
        return self.rows - self.duplicates - self.quarantined


@dataclass(frozen=True)
class Written:
    files: dict[str, FileTruth]  # by path relative to the output directory
    rows: int
    corrections: int  # rows whose key already appeared in an earlier batch


def corrections(rows: Rows) -> int:
    """Re-exported rows: a key appears at most once per batch, so every extra row is a later batch."""
    return len(rows) - np.unique(rows.key).size


def write_dataset(
    out_dir: Path,
    practice_id: str,
    period: Period,
    contract: Contract,
    rows: Rows,
    *,
    rng: np.random.Generator,
    dirty_rate: float,
    other_practice: str,
) -> Written:
    text = {c.name: render(c.kind, rows.columns[c.name]) for c in contract.columns}
    duplicated, broken = inject(rng, contract.dataset, rows, text, dirty_rate, other_practice)
    checked = [c.name for c in contract.columns if c.kind in TEXT_KINDS or dirty_rate > 0]
    for name in checked:
        text[name] = quoted(text[name])
    count = len(rows)
    # Duplicates follow their original line; rows keep their order within a batch.
    copies = np.repeat(np.arange(count), 1 + duplicated.astype(np.int64))
    order = copies[np.argsort(rows.batch[copies], kind="stable")]
    batch = rows.batch[order]
    data = lines([text[c.name] for c in contract.columns]).take(pa.array(order)) if count else None
    bounds = np.searchsorted(batch, np.arange(period.months + 1))
    header = (",".join(contract.column_names) + "\n").encode()
    files: dict[str, FileTruth] = {}
    duplicates = np.bincount(rows.batch[duplicated], minlength=period.months)
    quarantined = np.bincount(rows.batch[broken], minlength=period.months)
    offsets = np.frombuffer(data.buffers()[1], dtype=np.int32)[: len(data) + 1] if data is not None else None
    buffer = memoryview(data.buffers()[2]) if data is not None and data.buffers()[2] is not None else None
    for b in range(period.months):
        relative = f"{practice_id}/{period.label(b)}/{contract.dataset}.csv"
        start, stop = int(bounds[b]), int(bounds[b + 1])
        with open(out_dir / relative, "wb") as handle:
            handle.write(header)
            if stop > start and offsets is not None and buffer is not None:
                handle.write(buffer[offsets[start] : offsets[stop]])
        files[relative] = FileTruth(stop - start, int(duplicates[b]), int(quarantined[b]))
    return Written(files, int(bounds[-1]), corrections(rows))
