"""The benchmark's generated 835s are what it claims to measure: realistic files that read
without a bad row or a warning, with every kind of decision and adjustment."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

from practicelake.formats.x12.remittance import FORMAT

BENCH = Path(__file__).parents[3] / "bench" / "x12_remittances.py"


def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("x12_remittances", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_generated_remittances_balance_and_cover_every_kind_of_claim() -> None:
    files = bench().generate(1200, per_file=500, seed=3)
    assert len(files) == 3
    outcomes: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for data in files:
        for dataset in FORMAT.datasets:
            parsed = FORMAT.read(data, dataset)
            assert parsed.bad_rows == [] and parsed.warnings == ()
        outcomes.update(FORMAT.read(data, "claim_outcomes").rows.column("outcome").to_pylist())
        for row in FORMAT.read(data, "adjustments").rows.to_pylist():
            levels["line" if row["charge_id"] else "claim"] += 1
            levels[row["group_code"]] += 1
        payments = FORMAT.read(data, "payments").rows.to_pylist()
        assert any(p["claim_id"] is None for p in payments)  # the PLB
    assert set(outcomes) == {"paid", "partially_paid", "denied", "reversed"}
    assert min(levels[k] for k in ("line", "claim", "CO", "PR")) > 0
