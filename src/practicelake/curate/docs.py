"""docs/metrics.md, rendered from the models' contracts: each KPI is defined once, in the
model that holds it, and the docs say what the SQL does because they are made from it."""

from __future__ import annotations

from practicelake.curate.contract import Disclosure
from practicelake.curate.disclosure import tolerance
from practicelake.curate.project import Model, load_models, reference_tables

HEADER = """# Metrics: the curated zone

Generated from the model contracts in `src/practicelake/curate/models/` by
`practicelake metrics`: do not edit by hand. Each curated table is one SQL model
(`<name>.sql`) with its contract (`<name>.toml`); the contract declares the grain, every
column and the definition of every KPI the table holds.

Conventions, for every table:
- One row never mixes practices: `practice_id` leads every grain. No table holds
  patient-level rows. The cross-practice benchmarks are the exception: computed from every
  practice's rows, their `practice_id` is `*` and no figure in them is one practice's
  (statistical disclosure control: [disclosure.md](disclosure.md)).
- Days, weeks (ISO, starting Monday), months, hours and weekdays are the practice's local
  ones (cleaned timestamps are UTC; the practice's time zone converts them).
- Money is `decimal(18,2)` in the practice's currency; rates are fractions (0.25 = 25 %),
  empty (NULL) when their denominator is zero.
- Appointments entered in error are excluded everywhere.
"""


def _model_markdown(model: Model) -> list[str]:
    contract = model.contract
    reads = ", ".join(f"`{name}`" for name in sorted(model.reads))
    lines = [f"## {model.name}", "", contract.description, "", f"- grain: {contract.grain}", f"- reads: {reads}"]
    if contract.tests.unique:
        lines.append(f"- unique: ({', '.join(contract.tests.unique)})")
    lines += ["", "| column | type | description |", "|---|---|---|"]
    lines += [f"| `{name}` | {spec.type} | {spec.description} |" for name, spec in contract.columns.items()]
    for metric in contract.metrics:
        lines += ["", f"### {metric.name}", "", f"- formula: {metric.formula}"]
        if metric.includes:
            lines.append(f"- includes: {metric.includes}")
        if metric.excludes:
            lines.append(f"- excludes: {metric.excludes}")
        lines.append(f"- source: {metric.source}")
    if contract.disclosure is not None:
        lines += _disclosure_markdown(contract.disclosure)
    return [*lines, ""]


def _disclosure_markdown(rules: Disclosure) -> list[str]:
    """A cross-practice model's rules, as its contract declares them (docs/disclosure.md says why)."""
    least = rules.blend
    lines = [
        "",
        "### Disclosure control ([disclosure.md](disclosure.md))",
        "",
        f"- threshold: a cell only where at least {rules.min_contributors} practices contribute, and each"
        f" statistic only where at least {rules.min_contributors} have a figure for it",
        f"- quantiles: the mean of the {least} perturbed figures nearest the rank (one more where that centres"
        f" them; {rules.blend_share:.0%} of the cell's figures where more), rounded",
    ]
    if any(column.q is None for column in rules.published.values()):
        lines.append(
            f"- totals: withheld where the contributions after the two largest add up to less than"
            f" {rules.p_percent:g} % of the largest (p% rule), or the total is from 1 to {rules.small_counts}"
        )
    lines += [
        "",
        "| figure of each practice | perturbation: offset (own, fixed) | jitter (per cell) | tolerance |",
        "|---|---|---|---|",
    ]
    for name, measure in rules.measures.items():
        low, high = measure.offset
        if measure.scale == "relative":
            offset, jitter = f"{low:.0%} to {high:.0%} of it", f"{measure.jitter:.0%} of it"
            limit = f"{tolerance(rules, name):.0%} of it, less the rounding"
        else:
            offset, jitter = f"{low:g} to {high:g}", f"{measure.jitter:g}"
            limit = f"{tolerance(rules, name):.4g}"
        lines.append(f"| `{name}`: {measure.description} | {offset} | {jitter} | {limit} |")
    lines += ["", "| column | statistic | rounded to |", "|---|---|---|"]
    for name, column in rules.published.items():
        statistic = "total" if column.q is None else f"quantile {column.q:g}"
        lines.append(f"| `{name}` | {statistic} of `{column.of}` | {column.rounding:g} |")
    return lines


BENCHMARKS = """## Benchmarks across practices

Computed by the curate after the per-practice tables, from every practice's curated rows,
whenever one of them changed or a practice came or went. Each model's SQL returns what each
practice contributes to a cell; the published cells are made from those by the rules its
contract declares (`[disclosure]`), so that no figure can be traced back to one practice:
a threshold, a perturbation of each practice's figure keyed with a secret, quantiles only
as blends of several figures, and a dominance rule for totals. The rules, the attacks they
stop and their sources: [disclosure.md](disclosure.md). The tolerance is the least error of
an attacker who knows every other practice's figures (even as perturbed) estimating one
practice's, in a month or summed or averaged over months, in cells of up to 30 practices
(beyond, a quantile blends more figures, and its rounding hides each of them further).
"""


def render_markdown() -> str:
    lines = [HEADER]
    tables = [m for m in load_models() if m.contract.materialized == "table"]
    models = [m for m in tables if not m.contract.cross_practice]
    benchmarks = [m for m in tables if m.contract.cross_practice]
    lines += ["## Tables", ""]
    lines += [f"- [{m.name}](#{m.name}): {m.contract.grain}" for m in models]
    lines += ["", "Across practices:", ""]
    lines += [f"- [{m.name}](#{m.name}): {m.contract.grain}" for m in benchmarks]
    lines.append("")
    for model in models:
        lines += _model_markdown(model)
    lines.append(BENCHMARKS)
    for model in benchmarks:
        lines += _model_markdown(model)
    lines += ["## Reference tables", ""]
    lines += [f"- `reference.{name}`: `{path.name}` (packaged)" for name, path in reference_tables().items()]
    lines.append(
        "\n`reference.value_units` holds work value units per procedure code (US: CMS work RVUs). "
        "An operator replaces it with `value_units_file` in the settings (columns `procedure_code`, "
        "`work_rvu`), e.g. with a tariff's units outside the US; every practice is then rebuilt."
    )
    return "\n".join(lines).rstrip() + "\n"
