"""The first wall of the read path: a reader's SQL is accepted only if it is one query that
reads nothing but the allowed relations (and its own CTEs) and calls no function that
touches files, settings, the catalog or the system, nor one that builds values of a size it
is given (query.functions). The locked session is the second wall; the limits of the process
that runs it (query.worker) the third.

Before anything is parsed the text is bounded: at most MAX_SQL_CHARS characters, MAX_TOKENS
tokens and MAX_NESTING levels of parentheses, brackets, braces and CASE. Past any of them the
query is refused unparsed, so that reading a query costs little and never recurses past
Python's limit (a deeper chain that slips through is refused too, as nested too deeply). The
guard runs in the query process, inside the query's time limit.

What runs is the checked syntax tree, rendered again, never the reader's text."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.scope import traverse_scope
from sqlglot.tokenizer_core import Token, TokenType

from practicelake.query import functions
from practicelake.query.errors import QueryRefused, Reason

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

# SQL's niladic functions that DuckDB answers from the session even when written as a name.
SYSTEM_KEYWORDS = {"current_user", "current_role", "session_user", "user", "current_catalog", "current_schema"}

MAX_SQL_CHARS = 100_000
"""Longer query text is refused before it is read at all."""
MAX_TOKENS = 20_000
"""More tokens (words, numbers, quoted texts, symbols) than this and the query is refused unparsed."""
MAX_NESTING = 32
"""Deeper nesting of parentheses, brackets, braces and CASE ... END is refused unparsed: the
parser recurses once per level, and a query nested deeper than this reads as an attack."""
# Unclosed quotes and comments run to the end, so that no start is scanned twice.
ROUGH_TOKENS = re.compile(
    r"'(?:[^']|'')*(?:'|\Z)" r'|"(?:[^"]|"")*(?:"|\Z)' r"|--[^\n]*|/\*.*?(?:\*/|\Z)|\w+|\S", re.DOTALL
)
RENDERINGS = 3  # a query read back this many times without settling is refused
OPENS = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE}
CLOSES = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END}


@dataclass(frozen=True)
class Checked:
    """A query the guard let through, as DuckDB will run it."""

    sql: str
    """Rendered from the checked tree, comments dropped."""
    reads: frozenset[str]
    """Lower-case names of the relations (and CTEs) it reads."""
    placeholders: frozenset[str]


def check_size(sql: str) -> None:
    """Refuse query text too long to be worth reading: before it is tokenized, copied or sent."""
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused(
            f"the query is longer than {MAX_SQL_CHARS:,} characters: aggregate or filter on the server side",
            Reason.TOO_LARGE,
        )


def verdict(sql: str, relations: set[str]) -> Checked:
    """What `check` lets through, rendered as it will run."""
    tree, rendered = _checked(sql, relations)
    return Checked(
        sql=rendered,
        reads=frozenset(table.name.lower() for table in tree.find_all(exp.Table)),
        placeholders=frozenset(placeholder.name for placeholder in tree.find_all(exp.Placeholder)),
    )


def check(sql: str, relations: set[str]) -> exp.Query:
    """The query as a syntax tree, if it only reads `relations` (plain names, any case) and its
    own CTEs; otherwise QueryRefused, naming what was refused."""
    return _checked(sql, relations)[0]


def _checked(sql: str, relations: set[str]) -> tuple[exp.Query, str]:
    allowed = {name.lower() for name in relations}
    check_size(sql)
    text, rendered = sql, None
    try:
        for _ in range(RENDERINGS):
            tree = _read(text)
            _check_tree(tree, allowed)
            rendered = tree.sql(DIALECT, comments=False)
            if rendered == text:
                functions.check_heads(_tokens(rendered))
                return tree, rendered
            # sqlglot may render a node as SQL of its own (randstr as a subquery over RANGE,
            # say): what DuckDB will run is read back and checked as if the reader had sent it.
            text = rendered
    except RecursionError:
        # A chain the token scan does not count (NOT NOT ..., - - ...) can still run deep.
        raise QueryRefused("the query is nested too deeply", Reason.TOO_DEEP) from None
    raise QueryRefused("the query cannot be checked as it will run", Reason.UNRESOLVED)


def _read(sql: str) -> exp.Query:
    """The one query in `sql`, parsed once its text is known to be within the bounds."""
    check_size(sql)
    tokens = _tokens(sql)
    _require_one_query(tokens)
    _check_nesting(tokens)
    tree = _parse(tokens, sql)
    if not isinstance(tree, exp.Query):
        raise QueryRefused(f"{READS_ONLY} (got {tree.key.upper()})", Reason.NOT_A_READ)
    return tree


def _check_tree(tree: exp.Query, allowed: set[str]) -> None:
    for node in tree.walk():
        _check_node(node)
    _check_tables(tree, allowed)


def _tokens(sql: str) -> list[Token]:
    # A cheap count first (quoted texts and comments as one): tokenizing costs far more per token.
    for count, _ in enumerate(ROUGH_TOKENS.finditer(sql)):
        if count > 2 * MAX_TOKENS:
            raise QueryRefused(f"the query has more than {MAX_TOKENS:,} tokens", Reason.TOO_MANY_TOKENS)
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(sql)
    except TokenError as exc:
        raise QueryRefused(f"not valid SQL: {_first_line(exc)}", Reason.NOT_SQL) from None
    if len(tokens) > MAX_TOKENS:
        raise QueryRefused(f"the query has more than {MAX_TOKENS:,} tokens", Reason.TOO_MANY_TOKENS)
    return tokens


def _require_one_query(tokens: list[Token]) -> None:
    """Refuse stacked statements and non-queries before parsing: the tokens decide."""
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    statements = [s for s in statements if s]
    if not statements:
        raise QueryRefused("no query given", Reason.EMPTY)
    if len(statements) > 1:
        raise QueryRefused(f"one statement at a time: found {len(statements)} separated by ';'", Reason.NOT_A_READ)
    first = statements[0][0]
    if first.token_type not in QUERY_STARTS:
        raise QueryRefused(f"{READS_ONLY} (got {first.text.upper()})", Reason.NOT_A_READ)


def _check_nesting(tokens: list[Token]) -> None:
    depth = 0
    for token in tokens:
        if token.token_type in OPENS:
            depth += 1
            if depth > MAX_NESTING:
                raise QueryRefused(
                    f"the query is nested more than {MAX_NESTING} levels deep (parentheses, subqueries, CASE)",
                    Reason.TOO_DEEP,
                )
        elif token.token_type in CLOSES:
            depth -= 1


def _parse(tokens: list[Token], sql: str) -> exp.Expr:
    try:
        statements = sqlglot.Dialect.get_or_raise(DIALECT).parser().parse(tokens, sql)
    except (ParseError, TokenError) as exc:
        raise QueryRefused(f"not valid SQL: {_first_line(exc)}", Reason.NOT_SQL) from None
    found = [s for s in statements if s is not None]
    if len(found) != 1:
        raise QueryRefused(f"one statement at a time: found {len(found)}", Reason.NOT_A_READ)
    return found[0]


def _check_node(node: exp.Expr) -> None:
    if isinstance(node, NOT_READS):
        raise QueryRefused(f"{READS_ONLY} ({node.key.upper()} is not a read)", Reason.NOT_A_READ)
    if isinstance(node, exp.Func):
        functions.check_names(node)
        if not isinstance(node.parent, exp.Table):  # a table function: refused as one below
            functions.check_sizes(node)
    if isinstance(node, exp.Column) and not node.table and node.name.lower() in SYSTEM_KEYWORDS:
        raise QueryRefused(f"{node.name} is not allowed: it reads the session, not the data", Reason.SESSION_NAME)
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func) and _is_name(node.this):
        # schema.function(...): a function from outside the plain search path
        raise QueryRefused(
            f"qualified function names are not allowed: {node.this.sql(DIALECT)}.{_head(node.expression)}",
            Reason.QUALIFIED_NAME,
        )
    if isinstance(node, exp.Unnest | exp.TableFromRows) or (
        isinstance(node, exp.Lateral) and not isinstance(node.this, exp.Subquery)
    ):
        raise QueryRefused(f"table functions are not allowed: {_head(node)}", Reason.TABLE_FUNCTION)


def _check_tables(tree: exp.Query, allowed: set[str]) -> None:
    checked: set[int] = set()
    try:
        scopes = traverse_scope(tree)
    except RecursionError:
        raise
    except Exception as exc:  # sqlglot could not resolve the query's names: do not guess
        raise QueryRefused(f"cannot tell which tables the query reads: {_first_line(exc)}", Reason.UNRESOLVED) from None
    for scope in scopes:
        ctes = {name.lower() for name in scope.cte_sources}
        for table in scope.tables:
            _check_table(table, allowed, ctes)
            checked.add(id(table))
    for table in tree.find_all(exp.Table):
        if id(table) not in checked:
            raise QueryRefused(
                f"cannot tell what {table.sql(DIALECT)} reads: it is not allowed here", Reason.UNRESOLVED
            )


def _check_table(table: exp.Table, allowed: set[str], ctes: set[str]) -> None:
    if not isinstance(table.this, exp.Identifier):
        raise QueryRefused(f"table functions are not allowed: {_head(table.this)}", Reason.TABLE_FUNCTION)
    name = table.name.lower()
    qualifier = [part.name for part in (table.args.get("catalog"), table.args.get("db")) if part is not None]
    if qualifier:
        written = ".".join([*qualifier, table.name])
        if any(q.lower() in SYSTEM_SCHEMAS or q.lower().startswith("duckdb_") for q in qualifier):
            raise QueryRefused(f"system schemas are not readable: {written}", Reason.QUALIFIED_NAME)
        raise QueryRefused(
            f"schema-qualified names are not allowed: {written} (write {table.name})", Reason.QUALIFIED_NAME
        )
    if table.args.get("when") is not None:
        raise QueryRefused(f"time travel is not allowed: {table.name}", Reason.TIME_TRAVEL)
    if name not in allowed and name not in ctes:
        raise QueryRefused(
            f"no such table: {table.name} (the tables are: {', '.join(sorted(allowed)) or 'none'})",
            Reason.UNKNOWN_RELATION,
        )


def _is_name(node: exp.Expr) -> bool:
    return isinstance(node, exp.Identifier | exp.Column | exp.Dot | exp.Var)


def _head(node: exp.Expr) -> str:
    """The function name as DuckDB will read it (only for messages: it renders the whole node)."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.sql(DIALECT).split("(", 1)[0].strip().lower()


def _first_line(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        return f"{first.get('description')} at line {first.get('line')}, column {first.get('col')}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
