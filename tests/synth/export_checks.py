"""An independent check of synthetic exports against the contracts, with DuckDB."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from practicelake.contracts import BY_DATASET, Contract, Kind, reference_codes
from practicelake.synth import GenerationReport

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


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _checks(contract: Contract) -> dict[str, str]:
    """SQL booleans over the raw (all text) columns, one per constraint; true means the row passes."""
    checks: dict[str, str] = {"practice": "practice_id = folder"}
    for c in contract.columns:
        name = f'"{c.name}"'
        if c.required:
            checks[f"{c.name}:required"] = f"{name} IS NOT NULL"
        if c.kind in FORMATS:
            fmt = f"regexp_full_match({name}, {_text(FORMATS[c.kind])})"
            checks[f"{c.name}:type"] = (
                f"{name} IS NULL OR ({fmt} AND TRY_CAST({name} AS {SQL_TYPES[c.kind]}) IS NOT NULL)"
            )
        if c.allowed is not None:
            keys = ", ".join(_text(k.lower()) for k in sorted(c.allowed))
            checks[f"{c.name}:allowed"] = f"{name} IS NULL OR lower({name}) IN ({keys})"
        if c.pattern is not None and c.kind is Kind.CODE_LIST:
            each = f"list_transform(string_split({name}, '|'), lambda x: regexp_full_match(x, {_text(c.pattern)}))"
            checks[f"{c.name}:pattern"] = f"{name} IS NULL OR list_bool_and({each})"
        elif c.pattern is not None:
            checks[f"{c.name}:pattern"] = f"{name} IS NULL OR regexp_full_match({name}, {_text(c.pattern)})"
        if c.reference is not None:
            codes = ", ".join(_text(k) for k in sorted(reference_codes(c.reference)))
            checks[f"{c.name}:reference"] = f"{name} IS NULL OR {name} IN ({codes})"
        if c.minimum is not None:
            checks[f"{c.name}:minimum"] = (
                f"TRY_CAST({name} AS DOUBLE) IS NULL OR TRY_CAST({name} AS DOUBLE) >= {c.minimum}"
            )
    return checks


def load(export: Export, dataset: str) -> duckdb.DuckDBPyConnection:
    """A connection with table `raw` (all text, plus file and folder) and `typed` (parsed columns)."""
    contract = BY_DATASET[dataset]
    files = ", ".join(_text(str(p)) for p in export.files(dataset))
    columns = ", ".join(f"{_text(c)}: 'VARCHAR'" for c in contract.column_names)
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE raw AS SELECT *, row_number() OVER () AS n,
        regexp_extract(filename, '(P[0-9]+)/[0-9-]+/[a-z_]+\\.csv$', 1) AS folder,
        regexp_extract(filename, '(P[0-9]+/[0-9-]+/[a-z_]+\\.csv)$', 1) AS file
        FROM read_csv([{files}], header = true, auto_detect = false, columns = {{{columns}}}, delim = ',',
                      quote = '"', escape = '"', filename = true, strict_mode = true)"""
    )
    typed = ", ".join(
        f'TRY_CAST("{c.name}" AS {SQL_TYPES[c.kind]}) AS "{c.name}"' if c.kind in SQL_TYPES else f'"{c.name}"'
        for c in contract.columns
    )
    con.execute(f"CREATE TABLE typed AS SELECT n, file, {typed} FROM raw")
    return con


def breaking_rows(export: Export, dataset: str) -> dict[str, dict[str, int]]:
    """Per file: rows that break at least one contract constraint, and counts per constraint."""
    contract = BY_DATASET[dataset]
    con = load(export, dataset)
    checks = _checks(contract)
    passes = ", ".join(f"COALESCE({sql}, FALSE) AS {_quote_name(n)}" for n, sql in checks.items())
    con.execute(f"CREATE TABLE passes AS SELECT n, file, {passes} FROM raw")
    rules = ", ".join(f"COALESCE({r.check}, TRUE) AS {_quote_name('rule:' + r.name)}" for r in contract.rules)
    con.execute(f"CREATE TABLE rules AS SELECT n{', ' + rules if rules else ''} FROM typed")
    con.execute("CREATE TABLE verdict AS SELECT * FROM passes JOIN rules USING (n)")
    names = [*checks, *(f"rule:{r.name}" for r in contract.rules)]
    failing = " OR ".join(f"NOT {_quote_name(n)}" for n in names)
    sums = ", ".join(f"sum(CASE WHEN NOT {_quote_name(n)} THEN 1 ELSE 0 END)" for n in names)
    result: dict[str, dict[str, int]] = {}
    for file, broken, *per_check in con.execute(
        f"SELECT file, sum(CASE WHEN {failing} THEN 1 ELSE 0 END), {sums} FROM verdict GROUP BY file"
    ).fetchall():
        result[file] = {"broken": int(broken), **{n: int(v) for n, v in zip(names, per_check, strict=True) if v}}
    return result


def _quote_name(name: str) -> str:
    return '"' + name.replace('"', "") + '"'
