"""Vectorised text formatting of typed columns, in the export's formats."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from practicelake.contracts import Kind
from practicelake.synth.frame import Ints

_NULL = pa.scalar(None, pa.string())


def ids(prefix: str, numbers: Ints, width: int) -> pa.Array:
    """`prefix` followed by `numbers` zero-padded to `width` digits."""
    padded = pa.array(numbers.astype(np.int64) + 10**width).cast(pa.string())
    return pc.utf8_replace_slice(padded, start=0, stop=1, replacement=prefix)


def hundredths(values: pa.Array) -> pa.Array:
    """Money and measures held in hundredths, written with exactly two decimals."""
    raw = pc.fill_null(values, 0).to_numpy()
    magnitude = np.abs(raw)
    whole = pa.array(magnitude // 100).cast(pa.string())
    cents = pc.utf8_replace_slice(pa.array(magnitude % 100 + 100).cast(pa.string()), start=0, stop=1, replacement=".")
    text = pc.binary_join_element_wise(pc.if_else(pa.array(raw < 0), "-", ""), whole, cents, "")
    return _with_nulls(text, values)


def times(minutes: pa.Array) -> pa.Array:
    raw = pc.fill_null(minutes, 0).to_numpy()
    text = pa.array(raw // 60 * 100 + raw % 60 + 10_000).cast(pa.string())
    text = pc.utf8_replace_slice(text, start=0, stop=1, replacement="")
    return _with_nulls(pc.utf8_replace_slice(text, start=2, stop=2, replacement=":"), minutes)


def dates(days: pa.Array) -> pa.Array:
    return days.cast(pa.int32()).view(pa.date32()).cast(pa.string())


def timestamps(seconds: pa.Array) -> pa.Array:
    return seconds.view(pa.timestamp("s")).cast(pa.string())


def render(kind: Kind, values: pa.Array) -> pa.Array:
    """The export text of one typed column (strings pass through)."""
    if pa.types.is_string(values.type):
        return values
    if kind in (Kind.DECIMAL, Kind.NUMBER):
        return hundredths(values)
    if kind is Kind.DATE:
        return dates(values)
    if kind is Kind.TIMESTAMP:
        return timestamps(values)
    if kind is Kind.TIME:
        return times(values)
    if kind is Kind.BOOLEAN:
        return pc.if_else(values, "true", "false")
    return values.cast(pa.string())


def quoted(text: pa.Array) -> pa.Array:
    """CSV quoting, only for the values that need it."""
    needs = pc.match_substring_regex(text, '[,"]')
    if not pc.any(needs).as_py():
        return text
    escaped = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, escaped, text)


def lines(columns: list[pa.Array]) -> pa.Array:
    """One CSV line per row, each ending in a line feed; nulls become empty fields."""
    joined = pc.binary_join_element_wise(*columns, ",", null_handling="replace", null_replacement="")
    return pc.binary_join_element_wise(joined, "", "\n")


def _with_nulls(text: pa.Array, source: pa.Array) -> pa.Array:
    if source.null_count == 0:
        return text
    return pc.if_else(pc.is_valid(source), text, _NULL)
