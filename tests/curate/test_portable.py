"""The models are portable SQL: sqlglot transpiles each to Spark SQL and to Athena (Trino)
without an unsupported construct, so the curated zone can move to those engines."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from practicelake.curate.dialects import DIALECTS, parses, transpile
from practicelake.curate.project import load_models

MODELS = load_models()


@pytest.mark.parametrize("dialect", ["spark", "athena"])
@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_model_transpiles(model: object, dialect: str) -> None:
    sql = model.sql  # type: ignore[attr-defined]
    out = sqlglot.transpile(sql, read="duckdb", write=dialect, unsupported_level=ErrorLevel.RAISE, comments=False)
    assert len(out) == 1 and out[0].lower().startswith(("with", "select"))


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_no_duckdb_only_shorthands(model: object) -> None:
    sql = " ".join(model.sql.lower().split())  # type: ignore[attr-defined]
    for shorthand in ("::", "group by all", "order by all", "quantile_cont(", "list(", "filter (where"):
        assert shorthand not in sql, shorthand


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_model_in_practicelakes_rewrite_parses_back_strictly(model: object, dialect: str) -> None:
    sql = transpile(model, dialect)  # type: ignore[arg-type]
    tree = parses(sql, dialect)
    assert tree.find(exp.Select) is not None
    assert "isodow" not in sql.lower() and "recursive" not in sql.lower()
    if dialect == "trino":
        assert "approx_percentile" not in sql.lower()  # exact, as in DuckDB
