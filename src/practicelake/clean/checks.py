"""Contract checks as one DuckDB query: parse every column, then name the first rule each row
breaks. A row that breaks none is accepted and normalised."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlglot import exp

from practicelake.clean.sql import ident, literal, render, sql
from practicelake.contracts import BY_ENTITY, Column, Contract, Kind, Pii, reference_codes
from practicelake.formats.base import RECORDED

PARSE: dict[Kind, str] = {
    Kind.STRING: "__text__",
    Kind.CODE_LIST: "__text__",
    Kind.INTEGER: "case when regexp_full_match(__text__, '[+-]?[0-9]+') then try_cast(__text__ as bigint) end",
    # Money: at most two decimals, '.' as the separator; anything else is not silently rounded.
    Kind.DECIMAL: "case when regexp_full_match(__text__, '-?[0-9]+(\\.[0-9]{1,2})?') "
    "then try_cast(__text__ as decimal(18, 2)) end",
    Kind.NUMBER: "try_cast(__text__ as decimal(9, 4))",
    Kind.DATE: "try_cast(__text__ as date)",
    # Wall time in the practice's zone; a value with an offset (`Z`, `+02:00`, ` UTC`) is the
    # instant it names, here as the practice's wall time, so that the rules compare like with like.
    Kind.TIMESTAMP: "case when __offset__ then timezone(expected_time_zone, __tz__) "
    "else try_cast(__text__ as timestamp) end",
    Kind.TIME: "try_cast(__text__ as time)",
    Kind.BOOLEAN: "case when lower(__text__) in ('true', 't', 'yes', 'y', '1') then true "
    "when lower(__text__) in ('false', 'f', 'no', 'n', '0') then false end",
}

DATED = (Kind.DATE, Kind.TIMESTAMP)

# A time followed by a UTC offset or a UTC designator: `10:00Z`, `10:00:00+02:00`, `10:00-0500`, `10:00 UTC`.
OFFSET = r":[0-9]{2}(\.[0-9]+)?\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?|(?i:utc|gmt))$"
# The instant such a value names; DuckDB reads the designator in upper case and a time with seconds.
INSTANT = (
    "try_cast(regexp_replace(upper(__text__), '([T ][0-9]{1,2}:[0-9]{2})(\\s*(Z|UTC|GMT|[+-]))', '\\1:00\\2') "
    "as timestamptz)"
)
WALL_TIME = "try_cast(__text__ as timestamp)"
# Whether a value carries an offset. The usual `YYYY-MM-DD HH:MM:SS` cannot, and is told
# apart without the regular expression (a CASE evaluates its branch only where it applies).
HAS_OFFSET = "case when __text__ like '____-__-_____:__:__' then false else regexp_matches(__text__, __pattern__) end"
# A date alone (`2024-03-05`): every timestamp with a time is longer.
DATE_ONLY = "__value__ is not null and strlen(__text__) <= 10"
# The columns each file brings besides its text: the practice it was ingested for, that
# practice's settings, the day it was received, and its lineage.
FILE_COLUMNS = (
    "expected_practice_id",
    "expected_time_zone",
    "expected_currency",
    "received_on",
    "raw_file_sha256",
    "raw_line",
)

# When the source recorded a row (formats.base.RECORDED): lineage, passed through unchecked, as
# naive UTC for the order of clean.merge. A value with an offset is its instant; a wall time is
# the practice's, read as the earlier instant where a daylight-saving change repeats it (as the
# checked columns are) and with the offset before the change where it skips it (it cannot be
# quarantined: the row is not wrong); a date alone, or text that is no timestamp, is empty.
# The earlier reading of a repeated wall time: the instant three hours before, plus three hours
# (DuckDB's own reading of a repeated wall time is the later one).
EARLIER_READING = "timezone(expected_time_zone, __wall__ - interval 3 hour) + interval 3 hour"
RECORDED_UTC = (
    "case when __text__ is null or strlen(__text__) <= 10 then null "
    f"when {HAS_OFFSET} then timezone('UTC', {INSTANT}) "
    "else timezone('UTC', case when timezone(expected_time_zone, __earlier__) = __wall__ then __earlier__ "
    "else timezone(expected_time_zone, __wall__) end) end"
)

# The rows of a file read alone (clean.read.read_rows) have RECORDED only where their format
# gives it: where it does not, the union by name reads it as empty.
RECORDED_ROWS = exp.Union(
    this=exp.select("*").from_("incoming"),
    expression=exp.select(exp.cast(exp.null(), "varchar").as_(RECORDED, quoted=True)).where(exp.false()),
    distinct=False,
    by_name=True,
)

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


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"


def _column_checks(contract: Contract, column: Column) -> list[tuple[exp.Expression, Violation]]:
    text, value = _text(column), ident(column.name)
    checks: list[tuple[exp.Expression, Violation]] = []

    def add(template: str, rule: str, detail: str, **slots: exp.Expression) -> None:
        checks.append((render(template, text=text, value=value, **slots), Violation(rule, column.name, detail)))

    if column.required:
        add("__text__ is null", "required", "a required value is empty")
    # Text the cleaned zone keeps is bounded. (Text it does not keep is never read out of raw.)
    if (limit := column.length_limit) is not None and column.cleaned_name is not None:
        # strlen (bytes) first: it is free, and no text is longer in characters than in bytes.
        add(
            "strlen(__text__) > __n__ and length(__text__) > __n__",
            "too_long",
            f"longer than {limit} characters",
            n=literal(limit),
        )
    if column.kind not in (Kind.STRING, Kind.CODE_LIST):
        add("__text__ is not null and __value__ is null", "type", f"not a valid {column.kind.value}")
    if column.kind in DATED:
        add("year(__value__) not between 1900 and 2100", "implausible_date", "a date outside 1900-2100")
    if column.needs_time:
        add(DATE_ONLY, "time_required", "a date without the time of day")
    if column.allowed is not None and column.unlisted is None:
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
    if column.id_pattern is not None:
        add(
            "not regexp_full_match(__text__, __p__)",
            "id_format",
            "not an id: a letter or digit, then letters, digits, spaces and . _ : / # -",
            p=literal(column.id_pattern),
        )
    if column.reference is not None:
        codes = exp.Array(expressions=[literal(code) for code in reference_codes(column.reference)])
        add(
            "not list_contains(__codes__, upper(__text__))",
            "unknown_code",
            f"not a known {column.reference} code",
            codes=codes,
        )
    low, high = column.bounds
    if low is not None:
        add("__value__ < __m__", "minimum", f"below the minimum of {_number(low)}", m=literal(low))
    if high is not None:
        add("__value__ > __m__", "maximum", f"above the maximum of {_number(high)}", m=literal(high))
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


def _judged(contract: Contract, offsets: bool) -> tuple[list[tuple[str, exp.Query]], list[Violation]]:
    """The steps from `incoming` (text columns, FILE_COLUMNS, RECORDED) to `judged`: each column
    trimmed (`<name>__text`) and parsed (`<name>`), and `violation`, the index of the first
    check the row fails (NULL when it passes). Without `offsets`, for rows whose timestamps
    are all known to be plain wall times, the steps that read offsets are left out."""
    read = [contract.column(name) for name in read_columns(contract.entity)]
    texts = [render(TRIMMED, c=ident(c.name)).as_(c.name + "__text", quoted=True) for c in read]
    timed = [c for c in read if c.kind is Kind.TIMESTAMP]
    found_offsets = [
        render(HAS_OFFSET, text=_text(c), pattern=literal(OFFSET)).as_(_offset(c), quoted=True) for c in timed
    ]
    zoned = [
        render("case when __o__ then " + INSTANT + " end", text=_text(c), o=ident(_offset(c))).as_(_tz(c), quoted=True)
        for c in timed
    ]
    parse = PARSE if offsets else PARSE | {Kind.TIMESTAMP: WALL_TIME}
    parsed = [
        render(parse[c.kind], text=_text(c), offset=ident(_offset(c)), tz=ident(_tz(c))).as_(c.name, quoted=True)
        for c in read
    ]
    known = [_time_known(c).as_(c.time_known, quoted=True) for c in read if c.time_known]
    checks = violations(contract)
    case = exp.Case(ifs=[exp.If(this=cond, true=literal(i)) for i, (cond, _) in enumerate(checks)])
    recorded = render(TRIMMED, c=ident(RECORDED)).as_(RECORDED, quoted=True)
    steps = [
        ("recorded_rows", RECORDED_ROWS),
        ("text_rows", exp.select(*(ident(c) for c in FILE_COLUMNS), recorded, *texts).from_("recorded_rows")),
    ]
    if offsets and timed:
        steps += [
            ("offset_rows", exp.select("*", *found_offsets).from_("text_rows")),
            ("instant_rows", exp.select("*", *zoned).from_("offset_rows")),
        ]
    steps += [
        ("parsed_rows", exp.select("*", *parsed).from_(steps[-1][0])),
        ("typed_rows", exp.select("*", *known).from_("parsed_rows")),
        ("judged", exp.select("*", case.as_("violation")).from_("typed_rows")),
    ]
    return steps, [v for _, v in checks]


def _normalised(column: Column) -> exp.Expression:
    text, value = _text(column), ident(column.name)
    if column.allowed is not None:
        mapped = exp.Case(
            this=render("lower(__text__)", text=text),
            ifs=[exp.If(this=literal(k), true=literal(v)) for k, v in column.allowed.items()],
        )
        if column.unlisted is None:
            return mapped
        return render(
            "case when __text__ is null then null else coalesce(__mapped__, __other__) end",
            text=text,
            mapped=mapped,
            other=literal(column.unlisted),
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


def _offset(column: Column) -> str:
    return column.name + "__offset"


def _tz(column: Column) -> str:
    return column.name + "__tz"


INSTANT_SUFFIX = "__instant"


def instant_name(column: Column) -> str:
    """The working column holding the UTC instant of a value given with an offset (else NULL)."""
    return column.name + INSTANT_SUFFIX


def date_only_name(column: Column) -> str:
    """The working column saying that a value is a date without a time."""
    return column.name + "__date_only"


def _instant_columns(column: Column, offsets: bool) -> list[exp.Expr]:
    """What the conversion to UTC needs besides the wall time (working columns, dropped once
    converted), and the cleaned column saying whether the export gave a time."""
    # The instant as DuckDB holds it (its UTC epoch is what the conversion reads); NULL-ness of
    # the value is left to the conversion, which only looks at a date alone where there is one.
    columns = [ident(_tz(column)).as_(instant_name(column), quoted=True)] if offsets else []
    if column.time_known:  # a date alone is where the time is not known
        columns.append(ident(column.time_known).as_(column.time_known, quoted=True))
    elif not column.needs_time:  # (where a time is needed, a date alone is quarantined)
        date_only = render(DATE_ONLY, text=_text(column), value=ident(column.name))
        columns.append(date_only.as_(date_only_name(column), quoted=True))
    return columns


def _time_known(column: Column) -> exp.Expression:
    """TRUE when the export gave the value's time of day, FALSE for a date alone."""
    date_only = render(DATE_ONLY, text=_text(column), value=ident(column.name))
    return render("case when __value__ is not null then not (__d__) end", value=ident(column.name), d=date_only)


def _recorded() -> exp.Expr:
    """RECORDED as naive UTC (RECORDED_UTC), whether the row's other timestamps carry offsets or not."""
    text = ident(RECORDED)
    wall = render(WALL_TIME, text=text)
    earlier = render(EARLIER_READING, wall=wall)
    utc = render(RECORDED_UTC, text=text, pattern=literal(OFFSET), wall=wall, earlier=earlier)
    return utc.as_(RECORDED, quoted=True)


def clean_query(contract: Contract, offsets: bool = True) -> tuple[str, list[Violation]]:
    """One pass over `incoming`: every row in cleaned-zone columns (normalised, identifiers
    dropped, patient ids not yet pseudonymised), with its lineage and `violation`."""
    steps, found = _judged(contract, offsets)
    columns: list[exp.Expr] = []
    for column in contract.columns:
        name = column.cleaned_name
        if name is None:
            continue
        if column.pii is Pii.BIRTH_DATE:
            # HIPAA Safe Harbor: no birth year of a person over 89, judged on the date the
            # record describes (the day it was received when it names none), so that the same
            # export always gives the same cleaned rows.
            as_of = ident(contract.as_of) if contract.as_of else ident("received_on")
            on = render("coalesce(__as_of__, received_on)", as_of=as_of)
            age = render("date_sub('year', __value__, __on__)", value=ident(column.name), on=on)
            birth_year = render("case when __age__ > 89 then null else year(__v__) end", age=age, v=ident(column.name))
            columns.append(birth_year.as_(name, quoted=True))
            columns.append(render("__age__ > 89", age=age).as_("age_over_89", quoted=True))
        else:
            columns.append(_normalised(column).as_(name, quoted=True))
        if column.kind is Kind.TIMESTAMP:
            columns += _instant_columns(column, offsets)
    lineage = [
        ident("expected_practice_id"),
        ident("raw_file_sha256"),
        ident("raw_line"),
        _recorded(),
        ident("violation"),
    ]
    query = exp.select(*columns, *lineage).from_("judged")
    for name, step in steps:
        query = query.with_(name, as_=step)
    return sql(query), found


@dataclass(frozen=True)
class CompiledContract:
    """A contract's query, built once per process."""

    sql: str
    wall_time_sql: str  # the same, for rows whose timestamps all are plain wall times
    violations: list[Violation]
    # violations[gap_violation + i]: the i-th timestamp column's wall time does not exist in
    # the practice's zone (found when converting to UTC, after the query).
    gap_violation: int


def gap_violations(contract: Contract) -> list[Violation]:
    return [
        Violation("nonexistent_local_time", c.name, "a wall time that a daylight-saving change skips")
        for c in contract.columns
        if c.kind is Kind.TIMESTAMP
    ]


@cache
def compiled(entity: str) -> CompiledContract:
    contract = BY_ENTITY[entity]
    query, found = clean_query(contract)
    wall_time_query, _ = clean_query(contract, offsets=False)
    return CompiledContract(query, wall_time_query, found + gap_violations(contract), len(found))
