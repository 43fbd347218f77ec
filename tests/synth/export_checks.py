"""An independent check of synthetic exports against the contracts, with DuckDB."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from practicelake.contracts import BY_DATASET, Contract, Kind, reference_codes
from practicelake.formats.mapping import shipped
from practicelake.synth import GenerationReport

DIALECT = "duckdb"
SQL_TYPES = {
    Kind.INTEGER: "BIGINT",
    Kind.DECIMAL: "DECIMAL(18, 2)",
    Kind.NUMBER: "DECIMAL(9, 4)",
    Kind.DATE: "DATE",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.TIME: "TIME",
    Kind.BOOLEAN: "BOOLEAN",
}
# The export's own formats, stricter than what the contracts accept.
FORMATS = {
    Kind.INTEGER: r"-?[0-9]+",
    Kind.DECIMAL: r"-?[0-9]+\.[0-9]{2}",
    Kind.NUMBER: r"-?[0-9]+\.[0-9]{2}",
    Kind.DATE: r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    Kind.TIMESTAMP: r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}",
    Kind.TIME: r"[0-9]{2}:[0-9]{2}",
    Kind.BOOLEAN: r"true|false",
}


@dataclass(frozen=True)
class Export:
    root: Path
    report: GenerationReport

    def files(self, dataset: str) -> list[Path]:
        return sorted(self.root.glob(f"P*/*/{dataset}.csv"))


def sql(node: exp.Expr) -> str:
    return node.sql(DIALECT)


def render(template: str, **slots: exp.Expr) -> exp.Expr:
    """Fixed SQL text, parsed, with `slots[name]` put wherever the text names the column `__name__`."""

    def fill(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__") and node.name.endswith("__"):
            return slots[node.name[2:-2]].copy()
        return node

    return sqlglot.parse_one(template, read=DIALECT).transform(fill)


class Values:
    """Bound parameters of one query: each value added gets a placeholder of its own."""

    def __init__(self) -> None:
        self.bound: dict[str, object] = {}

    def __call__(self, value: object) -> exp.Placeholder:
        name = "v" + str(len(self.bound))
        self.bound[name] = value
        return exp.Placeholder(this=name)


def _is_null(node: exp.Expr) -> exp.Expr:
    return node.is_(exp.null())


def _checks(contract: Contract, value: Values) -> dict[str, exp.Expr]:
    """SQL booleans over the raw (all text) columns, one per constraint; true means the row passes."""
    checks: dict[str, exp.Expr] = {"practice": exp.column("practice_id").eq(exp.column("folder"))}
    for c in contract.columns:
        name = exp.column(c.name, quoted=True)
        if c.required:
            checks[c.name + ":required"] = exp.not_(_is_null(name))
        if c.kind in FORMATS:
            fmt = exp.func("regexp_full_match", name.copy(), value(FORMATS[c.kind]))
            parsed = exp.TryCast(this=name.copy(), to=exp.DataType.build(SQL_TYPES[c.kind], dialect=DIALECT))
            checks[c.name + ":type"] = exp.or_(_is_null(name), exp.and_(fmt, exp.not_(_is_null(parsed))))
        if c.allowed is not None:
            keys = value(sorted({k.lower() for k in c.allowed} | set(_synonyms(contract.dataset, c.name))))
            checks[c.name + ":allowed"] = exp.or_(
                _is_null(name), exp.func("list_contains", keys, exp.Lower(this=name.copy()))
            )
        if c.pattern is not None and c.kind is Kind.CODE_LIST:
            each = render(
                "list_bool_and(list_transform(string_split(__c__, '|'), lambda x: regexp_full_match(x, __p__)))",
                c=name,
                p=value(c.pattern),
            )
            checks[c.name + ":pattern"] = exp.or_(_is_null(name), each)
        elif c.pattern is not None:
            checks[c.name + ":pattern"] = exp.or_(
                _is_null(name), exp.func("regexp_full_match", name.copy(), value(c.pattern))
            )
        if c.reference is not None:
            codes = value(sorted(reference_codes(c.reference)))
            checks[c.name + ":reference"] = exp.or_(_is_null(name), exp.func("list_contains", codes, name.copy()))
        if c.minimum is not None:
            number = exp.TryCast(this=name.copy(), to=exp.DataType.build("DOUBLE"))
            checks[c.name + ":minimum"] = exp.or_(_is_null(number), number >= value(c.minimum))
    return checks


RAW = """CREATE TABLE raw AS SELECT *, row_number() OVER () AS n,
    regexp_extract(filename, '(P[0-9]+)/[0-9-]+/[a-z_]+\\.csv$', 1) AS folder,
    regexp_extract(filename, '(P[0-9]+/[0-9-]+/[a-z_]+\\.csv)$', 1) AS file
    FROM read_csv($files, header = true, auto_detect = false, columns = $columns, delim = ',',
                  quote = '"', escape = '"', filename = true, strict_mode = true)"""


def load(export: Export, dataset: str) -> duckdb.DuckDBPyConnection:
    """A connection with table `raw` (all text, plus file and folder) and `typed` (parsed columns)."""
    contract = BY_DATASET[dataset]
    con = duckdb.connect()
    con.execute(
        RAW,
        {
            "files": [str(p) for p in export.files(dataset)],
            "columns": dict.fromkeys(contract.column_names, "VARCHAR"),
        },
    )
    typed = [
        exp.TryCast(
            this=exp.column(c.name, quoted=True), to=exp.DataType.build(SQL_TYPES[c.kind], dialect=DIALECT)
        ).as_(c.name, quoted=True)
        if c.kind in SQL_TYPES
        else exp.column(c.name, quoted=True)
        for c in contract.columns
    ]
    # What the transform knows besides the file: each practice's settings (the generator writes
    # them beside the exports), the day the file was received, whether a time was given.
    practices = tomllib.loads((export.root / "practices.toml").read_text(encoding="utf-8"))["practices"]
    configured = pa.table(
        {
            "configured_id": list(practices),
            "expected_time_zone": [p["time_zone"] for p in practices.values()],
            "expected_currency": [p["currency"] for p in practices.values()],
        }
    )
    con.register("configured", configured)
    known = [
        render("strlen(__c__) > 10", c=exp.column(c.name, quoted=True)).as_(c.time_known, quoted=True)
        for c in contract.columns
        if c.time_known
    ]
    context = [
        exp.column("expected_time_zone"),
        exp.column("expected_currency"),
        render("current_date").as_("received_on"),
    ]
    select = exp.select("n", "file", *typed, *context, *known).from_("raw")
    select = select.join("configured", on="configured_id = folder", join_type="left")
    con.execute(sql(select.ctas("typed")))
    return con


def _broken(condition: exp.Expr) -> exp.Expr:
    """How many rows of the group `condition` holds for."""
    return exp.func("sum", exp.case().when(condition, exp.Literal.number(1)).else_(exp.Literal.number(0)))


def _synonyms(dataset: str, column: str) -> dict[str, str]:
    """How practicelake's CSV export may spell a column's values (formats/mappings/practicelake.toml)."""
    feed = shipped("practicelake").file_of(dataset).datasets[dataset]
    spec = feed.columns.get(column)
    return {} if spec is None else spec.lookup()


def breaking_rows(export: Export, dataset: str) -> dict[str, dict[str, int]]:
    """Per file: rows that break at least one contract constraint, and counts per constraint."""
    contract = BY_DATASET[dataset]
    con = load(export, dataset)
    value = Values()
    checks = _checks(contract, value)
    passes = [exp.func("coalesce", check, exp.false()).as_(n, quoted=True) for n, check in checks.items()]
    con.execute(sql(exp.select("n", "file", *passes).from_("raw").ctas("passes")), value.bound)
    rules = [
        exp.func("coalesce", sqlglot.parse_one(r.check, read=DIALECT), exp.true()).as_("rule:" + r.name, quoted=True)
        for r in contract.rules
    ]
    con.execute(sql(exp.select("n", *rules).from_("typed").ctas("rules")))
    con.execute("CREATE TABLE verdict AS SELECT * FROM passes JOIN rules USING (n)")
    names = [*checks, *("rule:" + r.name for r in contract.rules)]
    failed = [exp.not_(exp.column(n, quoted=True)) for n in names]
    result: dict[str, dict[str, int]] = {}
    for file, broken, *per_check in con.execute(
        sql(exp.select("file", _broken(exp.or_(*failed)), *map(_broken, failed)).from_("verdict").group_by("file"))
    ).fetchall():
        result[file] = {"broken": int(broken), **{n: int(v) for n, v in zip(names, per_check, strict=True) if v}}
    return result
