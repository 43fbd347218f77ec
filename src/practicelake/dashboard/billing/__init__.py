"""The read-path queries behind the Revenue cycle, A/R, Denials, Providers and Benchmark pages
and the Overview's revenue tiles: one .sql file each in this package, run through
`PageContext.read` with every value bound.

A figure wanted over several runs of days (the period, the one before it, a year before, the
months of a trend) is one query: the spans go in as lists bound together (`$periods`,
`$starts`, `$ends`; for A/R, `$periods` and `$dates`) and each row of the answer names its
span. Every figure is made from sums of day-grain curated tables, and every rate or average
is a ratio of those sums, so it is exact for any run of days; A/R is read on the day asked.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

QUERIES = resources.files(__package__)


@cache
def sql(name: str) -> str:
    """The text of `<name>.sql` of this package."""
    return QUERIES.joinpath(name + ".sql").read_text(encoding="utf-8")
