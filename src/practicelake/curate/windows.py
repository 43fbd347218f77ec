"""The rows of one practice an incremental curate rebuilds: for each model with a window
(contract.Window), its rows from the window's start on (and any whose window column is empty);
for a model without one, all of them.

The rows in the windows are computed as a full rebuild computes them: a model whose window
needs only recent cleaned rows (its `inputs`, and the same of every model it reads) runs over
the cleaned rows dated from the earliest such window's start less a day; every other model runs
over all of the practice's rows. Either way, only the rows in each window are kept, and only
those replace the table's rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import GreaterThanOrEqual, IsNull, Or, Reference

from practicelake.curate.project import Model
from practicelake.curate.writer import Replaced

MARGIN = timedelta(days=1)  # a practice-local day is never more than a day before its UTC one


@dataclass(frozen=True)
class Windows:
    practice_id: str
    cleaned: dict[str, pa.Table]  # the practice's cleaned rows, every one, by table
    starts: dict[str, date]  # by model: the first day of its window

    def start(self, model: Model) -> date | None:
        return self.starts.get(model.name) if model.contract.window is not None else None

    def recent(self, models: tuple[Model, ...]) -> set[str]:
        """The models whose windows need only recent cleaned rows."""
        chosen: set[str] = set()
        for model in models:  # what a model reads comes before it
            window = model.contract.window
            if window is None or window.inputs is None or model.name not in self.starts:
                continue
            cleaned = {t for t in model.reads if t.startswith("cleaned.")}
            if cleaned <= set(window.inputs) and model.depends_on <= chosen:
                chosen.add(model.name)
        return chosen

    def recent_inputs(self, models: tuple[Model, ...], inputs: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
        """`inputs` with each cleaned table the recent models read cut to its rows dated (by any
        column they name) from the earliest of their windows less a day; the rest as they are."""
        recent = [m for m in models if m.name in self.recent(models)]
        if not recent:
            return dict(inputs)
        since = min(self.starts[m.name] for m in recent) - MARGIN
        columns: dict[str, set[str]] = {}
        for model in recent:
            assert model.contract.window is not None and model.contract.window.inputs is not None
            for table, named in model.contract.window.inputs.items():
                columns.setdefault(table, set()).update(named)
        cut = dict(inputs)
        for table, names in columns.items():
            rows = inputs[table]
            dated = [_on_or_after(rows[name], since) for name in sorted(names)]
            keep = dated[0]
            for more in dated[1:]:
                keep = pc.or_kleene(keep, more)
            cut[table] = rows.filter(pc.fill_null(keep, False))
        return cut

    def rows_in(self, models: tuple[Model, ...], results: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
        """Each table's rows in its window."""
        out = {}
        for model in models:
            if model.name not in results:
                continue
            rows, start = results[model.name], self.start(model)
            if start is not None:
                assert model.contract.window is not None
                column = rows[model.contract.window.column]
                inside = pc.or_kleene(_on_or_after(column, start), pc.is_null(column))
                rows = rows.filter(pc.fill_null(inside, False))
            out[model.name] = rows
        return out

    def replaced(self, model: Model) -> Replaced:
        """The table's rows this rebuild replaces: the practice's in the window, or all of them."""
        start = self.start(model)
        if start is None:
            return Replaced((self.practice_id,))
        assert model.contract.window is not None
        column = Reference(model.contract.window.column)
        inside = Or(GreaterThanOrEqual(column, start.isoformat()), IsNull(column))  # type: ignore[call-arg,arg-type]
        return Replaced((self.practice_id,), inside)


def _on_or_after(values: pa.ChunkedArray, since: date) -> pa.ChunkedArray:
    if pa.types.is_timestamp(values.type):
        bound = pa.scalar(datetime(since.year, since.month, since.day), values.type)
    else:
        bound = pa.scalar(since, values.type)
    return pc.greater_equal(values, bound)
