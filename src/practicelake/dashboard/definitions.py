"""Every figure's definition, from the curated contracts: a tile or chart names the metric
(`[[metrics]]` of a model's TOML) and shows its formula, inclusions and source."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from practicelake.curate.project import load_models
from practicelake.dashboard.view import Definition


@cache
def definitions() -> Mapping[str, Definition]:
    """Metric name -> its definition, over every curated model."""
    found: dict[str, Definition] = {}
    for model in load_models():
        for metric in model.contract.metrics:
            found.setdefault(metric.name, Definition(**metric.model_dump()))
    return found


def definition(metric: str) -> Definition:
    """The named metric's definition; a name no contract defines is a defect."""
    try:
        return definitions()[metric]
    except KeyError:
        raise LookupError(f"no curated contract defines the metric {metric!r}") from None
