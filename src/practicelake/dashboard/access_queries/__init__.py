"""The read-path queries behind the Access, Patient flow and Today pages and the Overview's
access tiles: one .sql file each in this package, run through `PageContext.read` with every
value bound.

A figure wanted over several runs of days (the period, the one before it, a year before, the
months or days of a trend) is one query: the spans go in as three lists bound together
(`$periods`, `$starts`, `$ends`) and each row of the answer names its span. Every figure is
made from additive parts of day-grain curated tables (counts, minutes, slots, histograms), so
it is exact for any run of days; percentiles come from histograms through percentiles.sql.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

QUERIES = resources.files(__package__)


@cache
def sql(name: str) -> str:
    """The text of `<name>.sql` of this package."""
    return QUERIES.joinpath(name + ".sql").read_text(encoding="utf-8")


@cache
def percentile_sql(histogram: str) -> str:
    """The query of the medians and 90th percentiles of the histogram query `histogram`
    (rows of period, grp, measure, value, count): it becomes the CTE that percentiles.sql
    reads. Both texts are this package's own; nothing of a request goes into them."""
    return "with histogram as (\n" + sql(histogram) + "),\n\n" + sql("percentiles")
