"""Which functions a reader's query may call, and with what.

Denied: functions that read files, run SQL from text, or read settings, the catalog or the
system. Bounded: functions whose output grows with an argument rather than with the data
(`repeat`, `lpad`, `range`, `list_resize`, a width in `printf`, ...). DuckDB's memory limit
does not cover what they build, so their size arguments must be integer literals no larger
than MAX_SIZE, and one may not sit inside another's arguments or inside a lambda, where sizes
multiply. What still grows with the data (`string_agg` over a cross join, say) is stopped by
the limits of the process that runs the query, not here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from sqlglot import exp
from sqlglot.tokenizer_core import Token, TokenType

from practicelake.query.errors import QueryRefused, Reason

MAX_SIZE = 10_000
"""The largest count, length or width a query may pass to a bounded function."""

DENIED_PREFIXES = (
    "read_",
    "glob",
    "duckdb_",
    "pragma_",
    "pg_",
    "parquet_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "sniff_",
    "http",
    "st_read",
    "has_",
    "json_execute",
    "json_serialize",
    "json_deserialize",
    "enable_",
    "disable_",
    "test_",
)
DENIED_NAMES = {
    "getenv",
    "current_setting",
    "current_database",
    "current_catalog",
    "current_schema",
    "current_schemas",
    "current_query",
    "current_user",
    "current_role",
    "current_transaction_id",
    "getvariable",
    "query",
    "query_table",
    "parquet_scan",
    "checkpoint",
    "force_checkpoint",
    "nextval",
    "currval",
    "setval",
    "setseed",
    "which_secret",
    "load_aws_credentials",
    "sql_auto_complete",
    "col_description",
    "obj_description",
    "shobj_description",
    "format_type",
    "format_pg_type",
    "session_user",
    "user",
    "version",
    "database_size",
    "database_list",
    "summary",
    "icu_calendar_names",
    "repeat_row",
    "finalize",
    "export_state",
}
REACHES = "is not allowed: it reaches files, settings or the system"

# DuckDB's name of each bounded function: the positions of its size arguments ("all": every
# argument, for a series whose length is their span), or "format" for a format string.
BOUNDED: dict[str, tuple[int, ...] | str] = {
    "range": "all",
    "generate_series": "all",
    "repeat": (1,),
    "lpad": (1,),
    "rpad": (1,),
    "list_resize": (1,),
    "array_resize": (1,),
    "bitstring": (1,),
    "equi_width_bins": (2,),
    "to_base": (2,),
    "bar": (3,),
    "reservoir_quantile": (2,),
    "approx_top_k": (1,),
    "max": (1,),
    "min": (1,),
    "max_by": (2,),
    "min_by": (2,),
    "arg_max": (2,),
    "arg_min": (2,),
    "arg_max_nulls_last": (2,),
    "arg_min_nulls_last": (2,),
    "printf": "format",
    "format": "format",
}
# sqlglot's own node for a bounded function: its name and the args that hold its sizes.
BOUNDED_NODES: dict[type[exp.Func], tuple[str, tuple[str, ...]]] = {
    exp.GenerateSeries: ("range", ("start", "end", "step")),
    exp.Generator: ("range", ("rowcount",)),
    exp.Repeat: ("repeat", ("times",)),
    exp.Space: ("repeat", ("this",)),
    exp.Pad: ("lpad", ("expression",)),
    exp.Max: ("max", ("count",)),
    exp.Min: ("min", ("count",)),
    exp.ArgMax: ("arg_max", ("count",)),
    exp.ArgMin: ("arg_min", ("count",)),
    exp.ApproxTopK: ("approx_top_k", ("expression",)),
    exp.Format: ("format", ("this",)),
}
PRINTF_SPEC = re.compile(r"%[^a-zA-Z%]*[a-zA-Z%]?")
FORMAT_FIELD = re.compile(r"\{[^{}]*\}")
DIGITS = re.compile(r"\d+")


def check_names(node: exp.Func) -> None:
    """Refuse a denied function, under any of the names sqlglot knows it by."""
    names = {node.name.lower()} if isinstance(node, exp.Anonymous) else {n.lower() for n in type(node).sql_names()}
    for name in sorted(names):
        _check_name(name)


def check_heads(tokens: list[Token]) -> None:
    """Refuse a denied function in the SQL DuckDB will run, by the name it will read: a typed
    node can render under another name than the one it was parsed from."""
    for head, after in itertools.pairwise(tokens):
        if after.token_type == TokenType.L_PAREN and head.token_type != TokenType.STRING:
            _check_name(head.text.lower())


def check_sizes(node: exp.Func) -> None:
    """Refuse a bounded function whose sizes are not small integer literals, or that sits
    where its output is multiplied."""
    bounded = _bounded(node)
    if bounded is None:
        return
    name, sizes = bounded
    for ancestor in _ancestors(node):
        if isinstance(ancestor, exp.Lambda) or (isinstance(ancestor, exp.Func) and _bounded(ancestor)):
            raise QueryRefused(
                f"{name}() may not be used inside a lambda or another function that builds values",
                Reason.SIZE_ARGUMENT,
            )
    if BOUNDED.get(name) == "format":
        _check_format(name, sizes[0] if sizes else None)
        return
    values = [_integer(name, size) for size in sizes]
    if name in ("range", "generate_series"):
        if _series_length(values) > MAX_SIZE:
            raise QueryRefused(f"{name}() may build at most {MAX_SIZE:,} values", Reason.SIZE_ARGUMENT)
        return
    for value in values:
        if abs(value) > MAX_SIZE:
            raise QueryRefused(f"{name}() takes sizes up to {MAX_SIZE:,}", Reason.SIZE_ARGUMENT)


def _check_name(name: str) -> None:
    if name in DENIED_NAMES or name.startswith(DENIED_PREFIXES):
        raise QueryRefused(f"function {name}() {REACHES}", Reason.FUNCTION)


def _bounded(node: exp.Func) -> tuple[str, list[exp.Expr]] | None:
    """The bounded function's DuckDB name and its size arguments; None if it is not one."""
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        positions = BOUNDED.get(name)
        if positions is None:
            return None
        arguments = list(node.expressions)
        if isinstance(positions, str):  # "all" or "format"
            return (name, arguments if positions == "all" else arguments[:1]) if arguments else None
        sizes = [arguments[i] for i in positions if i < len(arguments)]
        return (name, sizes) if sizes else None
    for kind, (name, keys) in BOUNDED_NODES.items():
        if isinstance(node, kind):
            found = [node.args[key] for key in keys if isinstance(node.args.get(key), exp.Expr)]
            if kind is exp.Pad and not node.args.get("is_left"):
                name = "rpad"
            if kind is exp.GenerateSeries and not node.args.get("is_end_exclusive"):
                name = "generate_series"
            return (name, found) if found else None
    return None


def _series_length(values: list[int]) -> int:
    """How many values range(stop), range(start, stop) or range(start, stop, step) builds, at most."""
    if len(values) == 1:
        return abs(values[0])
    if len(values) not in (2, 3):
        return MAX_SIZE + 1
    step = values[2] if len(values) == 3 else 1
    return abs(values[1] - values[0]) // abs(step) + 1 if step else MAX_SIZE + 1


def _ancestors(node: exp.Expr) -> Iterator[exp.Expr]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _integer(name: str, size: exp.Expr) -> int:
    value = size.this if isinstance(size, exp.Neg) else size
    if isinstance(value, exp.Literal) and value.is_int:
        number = int(value.this)
        return -number if isinstance(size, exp.Neg) else number
    raise QueryRefused(f"{name}() takes sizes written as whole numbers, not computed", Reason.SIZE_ARGUMENT)


def _check_format(name: str, template: exp.Expr | None) -> None:
    if not (isinstance(template, exp.Literal) and template.is_string):
        raise QueryRefused(f"{name}() takes its format as a quoted text, not computed", Reason.SIZE_ARGUMENT)
    text = template.this
    if name == "printf":
        specs = PRINTF_SPEC.findall(text)
        dynamic = any("*" in spec for spec in specs)
    else:
        plain = text.replace("{{", "").replace("}}", "")
        specs = FORMAT_FIELD.findall(plain)
        dynamic = bool(set(FORMAT_FIELD.sub("", plain)) & {"{", "}"})
    if dynamic:
        raise QueryRefused(f"{name}() takes widths written in its format, not as arguments", Reason.SIZE_ARGUMENT)
    if any(int(digits) > MAX_SIZE for spec in specs for digits in DIGITS.findall(spec)):
        raise QueryRefused(f"{name}() takes widths up to {MAX_SIZE:,}", Reason.SIZE_ARGUMENT)
