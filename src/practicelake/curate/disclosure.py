"""Statistical disclosure control of the cross-practice models: from each practice's figures per
cell (what a model's SQL returns) to published cells from which no one practice's figure can be
read, exactly or closely, by anyone who knows every other practice's figures, compares releases
or combines cells. The rules and their parameters are each model's `[disclosure]`
(curate.contract.Disclosure); docs/disclosure.md explains them and names their sources.

1. Threshold: a cell is published only where at least `min_contributors` practices contribute,
   and each statistic only where at least that many have a figure for it.
2. Perturbation (noise infusion, Evans, Zayatz and Slanta 1998; keyed as the ABS cell-key
   method): before any cell uses it, each practice's figure is moved by an offset of its own,
   between `offset` in size and of a secret sign, the same in every cell and every release,
   plus a jitter of at most `jitter` keyed to the cell and the figure. The same figures give
   the same cells in every release, so releases cannot be averaged; any sum or mean of one
   practice's figures over cells keeps the offset, so combining cells cannot remove it.
3. No order statistic over too few values: a quantile is the mean of the `blend` (or
   `blend_share` of the cell's) perturbed figures nearest its rank, rounded.
4. Dominance (p% rule): a total is withheld where the contributions after the two largest add
   up to less than `p_percent` % of the largest; and a total from 1 to `small_counts`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pyarrow as pa

from practicelake.crypto.keystore import KeyStore
from practicelake.curate.contract import Disclosure, Measure, ModelContract, Published
from practicelake.curate.project import ModelError

EVERY_PRACTICE = "*"  # the practice_id of a cross-practice row; no practice id can be '*' (settings)
CELL_KEY_LABEL = b"practicelake:benchmark-cell-key:1"
Cell = tuple[object, ...]


def cell_secret(keys: KeyStore) -> bytes:
    """The secret the perturbations are keyed with: derived (HMAC-SHA-256, its own label) from
    the deployment's audit key, which offboarding leaves alone and nothing rotates. It must
    never change: with a new secret every cell would be drawn again, and two draws of one cell
    can be averaged."""
    return hmac.new(keys.audit_key(), CELL_KEY_LABEL, hashlib.sha256).digest()


def _uniform(secret: bytes, *parts: object) -> float:
    """A number in [0, 1) that only the secret and `parts` decide."""
    message = json.dumps(parts, default=_text, separators=(",", ":")).encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _text(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"a cell key cannot be made of {type(value).__name__}")


def perturbation(
    secret: bytes, model: str, name: str, measure: Measure, cell: Cell, practice_id: str, figure: float
) -> float:
    """How far the practice's `figure` is moved: a fraction of it (relative) or an amount
    (absolute). The offset depends on the model, measure and practice only; the jitter also on
    the cell and the figure, so a changed figure gets a new one."""
    least, most = measure.offset
    size = least + (most - least) * _uniform(secret, "offset", model, name, practice_id)
    sign = 1.0 if _uniform(secret, "sign", model, name, practice_id) < 0.5 else -1.0
    jitter = (2 * _uniform(secret, "jitter", model, name, *cell, practice_id, figure) - 1) * measure.jitter
    return sign * size + jitter


def perturbed(
    secret: bytes, model: str, name: str, measure: Measure, cell: Cell, practice_id: str, figure: float
) -> float:
    moved = perturbation(secret, model, name, measure, cell, practice_id, figure)
    return figure * (1 + moved) if measure.scale == "relative" else figure + moved


def rounded(value: float, base: float) -> float:
    """`value` as the nearest multiple of `base` (halves to even), without binary leftovers."""
    step = Decimal(repr(base))
    return float((Decimal(repr(value)) / step).to_integral_value(ROUND_HALF_EVEN) * step)


def window(rules: Disclosure, count: int, q: float) -> tuple[int, int]:
    """(first, size): the ranks (0-based) the quantile q of `count` figures blends. At least
    `blend` figures (or `blend_share` of them), centred on the rank percentile_cont would
    interpolate at; one more where that centres them (the median of 6 blends ranks 1 to 4)."""
    size = min(count, max(rules.blend, math.ceil(rules.blend_share * count)))
    first = q * (count - 1) - (size - 1) / 2
    if first % 1 == 0.5 and size < count:
        size, first = size + 1, first - 0.5
    return min(max(math.floor(first + 0.5), 0), count - size), size


def blended(figures: Sequence[float], q: float, rules: Disclosure) -> float:
    """The mean of the figures nearest the quantile's rank: never one practice's figure."""
    ordered = sorted(figures)
    first, size = window(rules, len(ordered), q)
    return math.fsum(ordered[first : first + size]) / size


def dominated(counts: Sequence[int], p_percent: float) -> bool:
    """The p% rule: the second largest contributor, subtracting its own count from the total,
    would know the largest to within p % of it."""
    largest = sorted(counts, reverse=True)
    rest = sum(largest[2:])
    return largest[0] > 0 and rest < p_percent / 100 * largest[0]


def statistic(column: Published, measure: Measure, rules: Disclosure, figures: list[tuple[float, float]]) -> object:
    """The published value of one column in one cell, from its (true, perturbed) figures."""
    if len(figures) < rules.min_contributors:
        return None
    if column.statistic == "total":
        counts = [int(true) for true, _ in figures]
        if 1 <= sum(counts) <= rules.small_counts or dominated(counts, rules.p_percent):
            return None
        return int(rounded(math.fsum(moved for _, moved in figures), column.rounding))
    assert column.q is not None
    value = rounded(blended([moved for _, moved in figures], column.q, rules), column.rounding)
    if measure.floor is not None:
        value = max(value, measure.floor)
    if measure.ceiling is not None:
        value = min(value, measure.ceiling)
    return value


def publish(model: str, contract: ModelContract, contributions: pa.Table, secret: bytes) -> pa.Table:
    """The published cells of a cross-practice model from its contributions (one row per
    practice and cell, true figures), in the contract's columns."""
    rules = contract.disclosure
    assert rules is not None
    published = []
    for cell, members in sorted(_cells(model, rules, contributions).items()):
        # A practice contributes to the cell with a figure of any measure.
        contributing = sum(any(_figure(m[name]) is not None for name in rules.measures) for m in members)
        if contributing < rules.min_contributors:
            continue
        row: dict[str, object] = {"practice_id": EVERY_PRACTICE} | dict(zip(rules.cell, cell, strict=True))
        for name, column in rules.published.items():
            measure = rules.measures[column.of]
            figures = [
                (float(f), perturbed(secret, model, column.of, measure, cell, str(member["practice_id"]), f))
                for member in members
                if (f := _figure(member[column.of])) is not None
            ]
            row[name] = statistic(column, measure, rules, figures)
        published.append(row)
    return pa.Table.from_pylist(published, schema=contract.arrow_schema())


def _cells(model: str, rules: Disclosure, contributions: pa.Table) -> dict[Cell, list[dict[str, object]]]:
    cells: dict[Cell, list[dict[str, object]]] = {}
    for row in contributions.to_pylist():
        cell = tuple(row[name] for name in rules.cell)
        if any(value is None for value in cell) or row["practice_id"] is None:
            raise ModelError(f"model {model}: a contribution has no practice or no {', '.join(rules.cell)}")
        cells.setdefault(cell, []).append(row)
    for members in cells.values():
        if len({str(m["practice_id"]) for m in members}) != len(members):
            raise ModelError(f"model {model}: a practice contributes twice to one cell")
    return cells


def _figure(value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    assert isinstance(value, int | float)
    return value


def tolerance(rules: Disclosure, name: str) -> float:
    """The least error, whatever the secret, of an attacker who knows every other practice's
    figures, even as perturbed, and estimates one practice's figure of measure `name` in a cell
    of up to `blend / blend_share` practices, or its sum or mean over such cells.

    Absolute measures: in their unit; the attacker recovers the practice's perturbed figure to
    within the rounding of a blend (at most blend + 1 figures), taken off here. Relative
    measures (counts): a fraction of the practice's figure, from which the rounding base of
    each total compared is still to be taken."""
    measure = rules.measures[name]
    least = measure.offset[0] - measure.jitter
    roundings = [c.rounding for c in rules.published.values() if c.of == name]
    if measure.scale == "relative" or not roundings:
        return least
    return least - (rules.blend + 1) * max(roundings) / 2
