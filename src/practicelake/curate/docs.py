"""docs/metrics.md, rendered from the models' contracts: each KPI is defined once, in the
model that holds it, and the docs say what the SQL does because they are made from it."""

from __future__ import annotations

from practicelake.curate.project import Model, load_models, reference_tables

HEADER = """# Metrics: the curated zone

Generated from the model contracts in `src/practicelake/curate/models/` by
`practicelake metrics`: do not edit by hand. Each curated table is one SQL model
(`<name>.sql`) with its contract (`<name>.toml`); the contract declares the grain, every
column and the definition of every KPI the table holds.

Conventions, for every table:
- One row never mixes practices: `practice_id` leads every grain. No table holds
  patient-level rows.
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
    return [*lines, ""]


def render_markdown() -> str:
    lines = [HEADER]
    models = [m for m in load_models() if m.contract.materialized == "table"]
    lines += ["## Tables", ""]
    lines += [f"- [{m.name}](#{m.name}): {m.contract.grain}" for m in models]
    lines.append("")
    for model in models:
        lines += _model_markdown(model)
    lines += ["## Reference tables", ""]
    lines += [f"- `reference.{name}`: `{path.name}` (packaged)" for name, path in reference_tables().items()]
    lines.append(
        "\n`reference.value_units` holds work value units per procedure code (US: CMS work RVUs). "
        "An operator replaces it with `value_units_file` in the settings (columns `procedure_code`, "
        "`work_rvu`), e.g. with a tariff's units outside the US; every practice is then rebuilt."
    )
    return "\n".join(lines).rstrip() + "\n"
