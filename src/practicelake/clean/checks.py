"""Contract checks as one DuckDB query: parse every column, then name the first rule each row
breaks. A row that breaks none is accepted and normalised."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlglot import exp

from practicelake.clean.sql import ident, literal, parameters, render, sql
from practicelake.contracts import BY_ENTITY, Column, Contract, Kind, Pii, reference_codes

PARSE: dict[Kind, str] = {
    Kind.STRING: "__text__",
    Kind.CODE_LIST: "__text__",
    Kind.INTEGER: "case when regexp_full_match(__text__, '[+-]?[0-9]+') then try_cast(__text__ as bigint) end",
    # Money: at most two decimals, '.' as the separator; anything else is not silently rounded.
    Kind.DECIMAL: "case when regexp_full_match(__text__, '-?[0-9]+(\\.[0-9]{1,2})?') "
    "then try_cast(__text__ as decimal(18, 2)) end",
    Kind.NUMBER: "try_cast(__text__ as decimal(9, 4))",
    Kind.DATE: "try_cast(__text__ as date)",
    Kind.TIMESTAMP: "try_cast(__text__ as timestamp)",
    Kind.TIME: "try_cast(__text__ as time)",
    Kind.BOOLEAN: "case when lower(__text__) in ('true', 't', 'yes', 'y', '1') then true "
    "when lower(__text__) in ('false', 'f', 'no', 'n', '0') then false end",
}

DATED = (Kind.DATE, Kind.TIMESTAMP)

# nullif(trim(x), '') for every value, but trimming only the few that need it (2x faster).
TRIMMED = (
    "case when __c__ = '' then null when starts_with(__c__, ' ') or ends_with(__c__, ' ') "
    "then nullif(trim(__c__), '') else __c__ end"
)


@dataclass(frozen=True)
class Violation:
    """One reason a row can be quarantined."""

    rule: str
    column: str | None
    detail: str


def _text(column: Column) -> exp.Column:
    return ident(column.name + "__text")


def _column_checks(contract: Contract, column: Column) -> list[tuple[exp.Expression, Violation]]:
    text, value = _text(column), ident(column.name)
    checks: list[tuple[exp.Expression, Violation]] = []

    def add(template: str, rule: str, detail: str, **slots: exp.Expression) -> None:
        checks.append((render(template, text=text, value=value, **slots), Violation(rule, column.name, detail)))

    if column.required:
        add("__text__ is null", "required", "a required value is empty")
    if column.kind not in (Kind.STRING, Kind.CODE_LIST):
        add("__text__ is not null and __value__ is null", "type", f"not a valid {column.kind.value}")
    if column.kind in DATED:
        add("year(__value__) not between 1900 and 2100", "implausible_date", "a date outside 1900-2100")
    if column.allowed is not None:
        allowed = exp.Array(expressions=[literal(k) for k in column.allowed])
        add(
            "not list_contains(__allowed__, lower(__text__))", "allowed_values", "not an allowed value", allowed=allowed
        )
    if column.pattern is not None:
        pattern = literal(f"(?:{column.pattern})")
        if column.kind is Kind.CODE_LIST:
            template = (
                "len(list_filter(string_split(__text__, '|'), c -> not regexp_full_match(upper(trim(c)), __p__))) > 0"
            )
            add(template, "code_format", "a code in the list has the wrong format", p=pattern)
        else:
            add(
                "not regexp_full_match(upper(__text__), __p__)",
                "code_format",
                "not in the expected code format",
                p=pattern,
            )
    if column.reference is not None:
        codes = exp.Array(expressions=[literal(code) for code in reference_codes(column.reference)])
        add(
            "not list_contains(__codes__, upper(__text__))",
            "unknown_code",
            f"not a known {column.reference} code",
            codes=codes,
        )
    if column.minimum is not None:
        add("__value__ < __m__", "minimum", f"below the minimum of {column.minimum:g}", m=literal(column.minimum))
    return checks


def violations(contract: Contract) -> list[tuple[exp.Expression, Violation]]:
    """Every check of the contract, in the order they are tried."""
    key = contract.key_column
    checks = [
        (render("__text__ is null", text=_text(key)), Violation("missing_key", key.name, "the key is empty")),
        (
            render("__text__ is distinct from expected_practice_id", text=_text(contract.column("practice_id"))),
            Violation("wrong_practice", "practice_id", "the row names another practice than the one ingested"),
        ),
    ]
    for column in contract.columns:
        checks.extend(_column_checks(contract, column))
    for rule in contract.rules:
        checks.append((render("not (" + rule.check + ")"), Violation(rule.name, rule.column, rule.description)))
    return checks


@cache
def read_columns(entity: str) -> tuple[str, ...]:
    """The columns the transform reads: those the cleaned zone keeps and those a check looks
    at. The others (names, contact details, free text without a check) are never converted
    out of the CSV: they stay in raw, and out of the process's memory too."""
    contract = BY_ENTITY[entity]
    looked_at = {
        column.name.removesuffix("__text") for check, _ in violations(contract) for column in check.find_all(exp.Column)
    }
    return tuple(c.name for c in contract.columns if c.cleaned_name is not None or c.name in looked_at)


def _judged(contract: Contract) -> tuple[list[tuple[str, exp.Select]], list[Violation]]:
    """The steps from `incoming` (text columns, the practice the file was ingested for, its
    raw_file_sha256 and raw_line) to `judged`: each
    column trimmed (`<name>__text`) and parsed (`<name>`), and `violation`, the index of the
    first check the row fails (NULL when it passes)."""
    read = [contract.column(name) for name in read_columns(contract.entity)]
    texts = [render(TRIMMED, c=ident(c.name)).as_(c.name + "__text", quoted=True) for c in read]
    parsed = [render(PARSE[c.kind], text=_text(c)).as_(c.name, quoted=True) for c in read]
    checks = violations(contract)
    case = exp.Case(ifs=[exp.If(this=cond, true=literal(i)) for i, (cond, _) in enumerate(checks)])
    steps = [
        (
            "text_rows",
            exp.select(ident("expected_practice_id"), ident("raw_file_sha256"), ident("raw_line"), *texts).from_(
                "incoming"
            ),
        ),
        ("typed_rows", exp.select("*", *parsed).from_("text_rows")),
        ("judged", exp.select("*", case.as_("violation")).from_("typed_rows")),
    ]
    return steps, [v for _, v in checks]


def _normalised(column: Column) -> exp.Expression:
    text, value = _text(column), ident(column.name)
    if column.allowed is not None:
        return exp.Case(
            this=render("lower(__text__)", text=text),
            ifs=[exp.If(this=literal(k), true=literal(v)) for k, v in column.allowed.items()],
        )
    if column.pii is Pii.POSTAL_CODE:
        return render("left(upper(replace(__text__, ' ', '')), 3)", text=text)
    if column.kind is Kind.CODE_LIST:
        return render("list_transform(string_split(__text__, '|'), c -> upper(replace(trim(c), '.', '')))", text=text)
    if column.kind is Kind.STRING and column.reference is None and column.pattern is None:
        return text
    if column.kind is Kind.STRING:  # codes: case carries no meaning
        return render("upper(__text__)", text=text)
    return value


def clean_query(contract: Contract) -> tuple[str, list[Violation]]:
    """One pass over `incoming`: every row in cleaned-zone columns (normalised, identifiers
    dropped, patient ids not yet pseudonymised), with its lineage and `violation`."""
    steps, found = _judged(contract)
    columns: list[exp.Expr] = []
    for column in contract.columns:
        name = column.cleaned_name
        if name is None:
            continue
        if column.pii is Pii.BIRTH_DATE:
            age = render("date_sub('year', __value__, $reference_date::date)", value=ident(column.name))
            birth_year = render("case when __age__ > 89 then null else year(__v__) end", age=age, v=ident(column.name))
            columns.append(birth_year.as_(name, quoted=True))
            columns.append(render("__age__ > 89", age=age).as_("age_over_89", quoted=True))
        else:
            columns.append(_normalised(column).as_(name, quoted=True))
    lineage = [ident("expected_practice_id"), ident("raw_file_sha256"), ident("raw_line"), ident("violation")]
    query = exp.select(*columns, *lineage).from_("judged")
    for name, step in steps:
        query = query.with_(name, as_=step)
    return sql(query), found


@dataclass(frozen=True)
class CompiledContract:
    """A contract's query, built once per process."""

    sql: str
    parameters: frozenset[str]
    violations: list[Violation]


@cache
def compiled(entity: str) -> CompiledContract:
    query, found = clean_query(BY_ENTITY[entity])
    return CompiledContract(query, parameters(query), found)
