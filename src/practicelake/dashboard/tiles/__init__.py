"""The Overview's tiles and attention items, one module per area: each gives
`<area>_tiles(ctx) -> list[Tile]` and `<area>_attention(ctx) -> list[Attention]`, drawn from
the same figures as the area's own page.

`compared_tile` makes a tile from a figure's values over the period, the period before it and
the same days a year before, with its definition, its "as of" and where its rows are; a
`TileSpec` holds what a tile of a page always is, apart from its values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.view import Number, Target, Tile, Unit


def compared_tile(
    ctx: PageContext,
    key: str,
    label: str,
    unit: Unit,
    values: Mapping[str, Number],
    *,
    metric: str,
    relation: str,
    better: Literal["higher", "lower"] | None = None,
    target: Target | None = None,
    note: str | None = None,
) -> Tile:
    """A tile of `values` keyed current, previous and year_ago (a missing one: None); the
    metric's definition, the relation's last curate and a drill to its rows."""
    return Tile(
        key=key,
        label=label,
        unit=unit,
        value=values.get("current"),
        previous=values.get("previous"),
        year_ago=values.get("year_ago"),
        better=better,
        target=target,
        definition=definition(metric),
        as_of=ctx.stamp(relation),
        drill=ctx.link("rows/" + relation),
        note=note,
    )


@dataclass(frozen=True)
class TileSpec:
    """A tile as a page always shows it: its key, label, unit, metric and curated relation."""

    key: str
    label: str
    unit: Unit
    metric: str
    relation: str
    better: Literal["higher", "lower"] | None = None
    target: Target | None = None

    def tile(self, ctx: PageContext, values: Mapping[str, Number], note: str | None = None) -> Tile:
        return compared_tile(
            ctx, self.key, self.label, self.unit, values, metric=self.metric, relation=self.relation,
            better=self.better, target=self.target, note=note,
        )  # fmt: skip
