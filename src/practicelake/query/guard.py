"""The first wall of the read path: a reader's SQL is accepted only if it is one query that
reads nothing but the allowed relations (and its own CTEs) and calls no function that
touches files, settings, the catalog or the system. The locked session is the second wall.

What runs is the checked syntax tree, rendered again, never the reader's text."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.tokenizer_core import Token, TokenType

from practicelake.query.errors import QueryRefused

DIALECT = "duckdb"
READS_ONLY = "only reads are allowed: send one SELECT query"

# The first word of a query; anything else (INSERT, ATTACH, SET, PRAGMA, CALL, ...) is not a read.
QUERY_STARTS = {TokenType.SELECT, TokenType.WITH, TokenType.FROM, TokenType.L_PAREN}

# Nodes that write, change the session or reach outside it, wherever they are in the tree.
NOT_READS: tuple[type[exp.Expr], ...] = (
    exp.DML,
    exp.DDL,
    exp.Alter,
    exp.Drop,
    exp.Command,
    exp.Set,
    exp.Pragma,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Export,
    exp.Into,
    exp.Describe,
    exp.Summarize,
    exp.Show,
    exp.Analyze,
    exp.TruncateTable,
    exp.Grant,
    exp.Revoke,
    exp.Kill,
    exp.Cache,
    exp.Uncache,
    exp.LoadData,
    exp.Declare,
    exp.Comment,
)

SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "system", "temp", "main", "memory"}

# Functions that read files, run SQL from text, or read settings, the catalog or the system.
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


# SQL's niladic functions that DuckDB answers from the session even when written as a name.
SYSTEM_KEYWORDS = {"current_user", "current_role", "session_user", "user", "current_catalog", "current_schema"}


def check(sql: str, relations: set[str]) -> exp.Query:
    """The query as a syntax tree, if it only reads `relations` (plain names, any case) and its
    own CTEs; otherwise QueryRefused, naming what was refused."""
    allowed = {name.lower() for name in relations}
    _require_one_query(sql)
    tree = _parse(sql)
    if not isinstance(tree, exp.Query):
        raise QueryRefused(f"{READS_ONLY} (got {tree.key.upper()})")
    for node in tree.walk():
        if isinstance(node, NOT_READS):
            raise QueryRefused(f"{READS_ONLY} ({node.key.upper()} is not a read)")
        if isinstance(node, exp.Func):
            _check_function(node)
        if isinstance(node, exp.Column) and not node.table and node.name.lower() in SYSTEM_KEYWORDS:
            raise QueryRefused(f"{node.name} is not allowed: it reads the session, not the data")
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func) and _is_name(node.this):
            # schema.function(...): a function from outside the plain search path
            raise QueryRefused(
                f"qualified function names are not allowed: {node.this.sql(DIALECT)}.{_head(node.expression)}"
            )
        if isinstance(node, exp.Unnest | exp.TableFromRows) or (
            isinstance(node, exp.Lateral) and not isinstance(node.this, exp.Subquery)
        ):
            raise QueryRefused(f"table functions are not allowed: {_head(node)}")
    _check_tables(tree, allowed)
    return tree


def _require_one_query(sql: str) -> None:
    """Refuse stacked statements and non-queries before parsing: the tokens decide."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError as exc:
        raise QueryRefused(f"not valid SQL: {_first_line(exc)}") from None
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    statements = [s for s in statements if s]
    if not statements:
        raise QueryRefused("no query given")
    if len(statements) > 1:
        raise QueryRefused(f"one statement at a time: found {len(statements)} separated by ';'")
    first = statements[0][0]
    if first.token_type not in QUERY_STARTS:
        raise QueryRefused(f"{READS_ONLY} (got {first.text.upper()})")


def _parse(sql: str) -> exp.Expr:
    try:
        statements = sqlglot.parse(sql, read=DIALECT)
    except (ParseError, TokenError) as exc:
        raise QueryRefused(f"not valid SQL: {_first_line(exc)}") from None
    found = [s for s in statements if s is not None]
    if len(found) != 1:
        raise QueryRefused(f"one statement at a time: found {len(found)}")
    return found[0]


def _check_function(node: exp.Func) -> None:
    names = {_head(node)}
    if isinstance(node, exp.Anonymous):
        names.add(node.name.lower())
    else:
        names.update(name.lower() for name in type(node).sql_names())
    for name in sorted(names):
        if name in DENIED_NAMES or name.startswith(DENIED_PREFIXES):
            raise QueryRefused(f"function {name}() is not allowed: it reaches files, settings or the system")


def _check_tables(tree: exp.Query, allowed: set[str]) -> None:
    checked: set[int] = set()
    try:
        scopes = traverse_scope(tree)
    except Exception as exc:  # sqlglot could not resolve the query's names: do not guess
        raise QueryRefused(f"cannot tell which tables the query reads: {_first_line(exc)}") from None
    for scope in scopes:
        ctes = {name.lower() for name in scope.cte_sources}
        for table in scope.tables:
            _check_table(table, allowed, ctes)
            checked.add(id(table))
    for table in tree.find_all(exp.Table):
        if id(table) not in checked:
            raise QueryRefused(f"cannot tell what {table.sql(DIALECT)} reads: it is not allowed here")


def _check_table(table: exp.Table, allowed: set[str], ctes: set[str]) -> None:
    if not isinstance(table.this, exp.Identifier):
        raise QueryRefused(f"table functions are not allowed: {_head(table.this)}")
    name = table.name.lower()
    qualifier = [part.name for part in (table.args.get("catalog"), table.args.get("db")) if part is not None]
    if qualifier:
        written = ".".join([*qualifier, table.name])
        if any(q.lower() in SYSTEM_SCHEMAS or q.lower().startswith("duckdb_") for q in qualifier):
            raise QueryRefused(f"system schemas are not readable: {written}")
        raise QueryRefused(f"schema-qualified names are not allowed: {written} (write {table.name})")
    if table.args.get("when") is not None:
        raise QueryRefused(f"time travel is not allowed: {table.name}")
    if name not in allowed and name not in ctes:
        raise QueryRefused(f"no such table: {table.name} (the tables are: {', '.join(sorted(allowed)) or 'none'})")


def _is_name(node: exp.Expr) -> bool:
    return isinstance(node, exp.Identifier | exp.Column | exp.Dot | exp.Var)


def _head(node: exp.Expr) -> str:
    """The function name as DuckDB will read it."""
    return node.sql(DIALECT).split("(", 1)[0].strip().lower()


def _first_line(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        return f"{first.get('description')} at line {first.get('line')}, column {first.get('col')}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
