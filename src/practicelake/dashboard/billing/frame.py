"""What the billing pages share beyond their queries: who sees which dataset and its money,
the PageView frame, tiles and charts of figures by span, and the notes on filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Literal, TypeVar

from practicelake.access.permissions import access_for, curated_tables
from practicelake.dashboard.billing.figures import Key, shown
from practicelake.dashboard.billing.spans import Span
from practicelake.dashboard.context import PageContext
from practicelake.dashboard.definitions import definition
from practicelake.dashboard.locales import money_text
from practicelake.dashboard.pages import datasets_seen
from practicelake.dashboard.view import Chart, Number, Series, Unit

T = TypeVar("T")
Pick = Callable[[T], float | Decimal | int | None]
Kind = Literal["line", "bar", "stacked", "heatmap"]
NO_LOCATION = (
    "The location filter does not apply here: billing exports name no location, so these figures are the practice's."
)


def sees(ctx: PageContext, dataset: str) -> bool:
    """The principal sees the dataset of the practice viewed."""
    return dataset in datasets_seen(ctx.principal, ctx.practice_id)


def sees_money(ctx: PageContext, relation: str) -> bool:
    """The principal sees the relation with its money columns (the read path hides them from
    roles that never see money)."""
    seen = access_for(ctx.principal, [relation]).relations.get(relation)
    if seen is None:
        return False
    return not (seen.hidden_columns & curated_tables()[relation].contract.money_columns)


def span_series(name: str, spans: Sequence[Span], found: Mapping[Key, T], pick: Pick[T], group: str = "") -> Series:
    """One value per span: `pick` of the span's figures of `group`, None where it has none."""
    values: list[Number] = []
    for span in spans:
        figures = found.get((span.name, group))
        values.append(None if figures is None else shown(pick(figures)))
    return Series(name=name, values=values)


def group_series(name: str, span: str, groups: Sequence[str], found: Mapping[Key, T], pick: Pick[T]) -> Series:
    """One value per group (a bar per payer, provider, reason ...) of one span."""
    values: list[Number] = []
    for group in groups:
        figures = found.get((span, group))
        values.append(None if figures is None else shown(pick(figures)))
    return Series(name=name, values=values)


def groups_of(found: Mapping[Key, object], span: str = "current") -> list[str]:
    return sorted(group for name, group in found if name == span)


def chart(
    ctx: PageContext,
    key: str,
    title: str,
    kind: Kind,
    axes: tuple[str, str],
    unit: Unit,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    metric: str,
    relation: str,
    note: str | None = None,
) -> Chart:
    x_label, y_label = axes
    return Chart(
        key=key,
        title=title,
        kind=kind,
        x_label=x_label,
        y_label=y_label,
        unit=unit,
        labels=list(labels),
        series=list(series),
        definition=definition(metric),
        as_of=ctx.stamp(relation),
        drill=ctx.link("rows/" + relation),
        note=note,
    )


def currency_amount(ctx: PageContext, amount: Decimal | float) -> str:
    """An amount in an attention item's sentence, written as the practice's tiles write it."""
    return money_text(amount, ctx.practice.currency, ctx.practice.locale)
