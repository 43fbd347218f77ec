"""The models: one `<name>.sql` per curated table with its `<name>.toml` contract, ordered by
the tables their SQL reads (found with sqlglot, not kept by hand)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from graphlib import CycleError, TopologicalSorter
from importlib import resources
from importlib.resources.abc import Traversable

import sqlglot
from pydantic import ValidationError
from sqlglot import exp

from practicelake.contracts import BY_ENTITY
from practicelake.curate.contract import DATASETS, ModelContract
from practicelake.errors import PracticelakeError

# Package data, found as the installed package holds it (a wheel, a zip, a checkout).
MODELS = resources.files(__package__).joinpath("models")
REFERENCE = resources.files(__package__).joinpath("reference")
DIALECT = "duckdb"
# Columns that would make a curated row one patient's (or one visit's, claim's, payment's).
PATIENT_LEVEL = {
    *("patient_id", "birth_year", "age_over_89", "postal_code", "sex"),
    *("appointment_id", "encounter_id", "charge_id", "claim_id", "payment_id", "adjustment_id", "remittance_ref"),
}


class ModelError(PracticelakeError):
    """A model that cannot be loaded, ordered or run; the message names it."""


@dataclass(frozen=True)
class Model:
    name: str
    sql: str
    contract: ModelContract
    reads: frozenset[str]  # schema-qualified: cleaned.appointment, curated.x, reference.y

    @property
    def depends_on(self) -> set[str]:
        return {name.removeprefix("curated.") for name in self.reads if name.startswith("curated.")}

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256((self.sql + "\0" + self.contract.model_dump_json()).encode()).hexdigest()


def tables_read(name: str, sql: str) -> frozenset[str]:
    """Every schema-qualified table the query reads; CTE names are not tables."""
    try:
        statements = sqlglot.parse(sql, read=DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise ModelError(f"model {name}: cannot parse its SQL: {exc}") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ModelError(f"model {name}: must be one select statement")
    query = statements[0]
    ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    reads = set()
    for table in query.find_all(exp.Table):
        if not table.db:
            if table.name in ctes:
                continue
            raise ModelError(
                f"model {name}: table {table.name!r} must be named with its zone, e.g. cleaned.{table.name}"
            )
        reads.add(f"{table.db}.{table.name}")
    return frozenset(reads)


def _load_one(folder: Traversable, name: str) -> Model:
    sql_path, toml_path = folder.joinpath(name + ".sql"), folder.joinpath(name + ".toml")
    if not toml_path.is_file():
        raise ModelError(f"model {name}: no contract {toml_path.name} beside {sql_path.name}")
    try:
        declared = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        if "dataset" not in declared:
            raise ModelError(
                f"model {name}: contract {toml_path.name} names no dataset: add dataset = one of "
                + ", ".join(f'"{d}"' for d in DATASETS)
                + " (roles are granted datasets, so a model without one could be shown to nobody or to anyone)"
            )
        contract = ModelContract.model_validate(declared)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ModelError(f"model {name}: contract {toml_path.name}: {exc}") from None
    if contract.materialized == "table":
        _check_publishable(name, contract)
    sql = sql_path.read_text(encoding="utf-8")
    return Model(name=name, sql=sql, contract=contract, reads=tables_read(name, sql))


def _check_publishable(name: str, contract: ModelContract) -> None:
    """A curated table is per practice and holds no patient-level rows."""
    columns = list(contract.columns)
    if not columns or columns[0] != "practice_id" or contract.tests.unique[:1] != ["practice_id"]:
        raise ModelError(f"model {name}: a curated table starts with practice_id, in its columns and its unique grain")
    patient = [c for c in columns if "patient_key" in c or c in PATIENT_LEVEL]
    if patient:
        raise ModelError(
            f"model {name}: patient-level column(s) {patient} cannot be curated (make the model ephemeral)"
        )


def ordered(models: list[Model], references: set[str]) -> list[Model]:
    """Models in an order where each runs after the models it reads."""
    by_name = {m.name: m for m in models}
    for model in models:
        for table in model.reads:
            zone, _, name = table.partition(".")
            known = {"cleaned": name in BY_ENTITY, "curated": name in by_name, "reference": name in references}
            if not known.get(zone, False):
                raise ModelError(
                    f"model {model.name}: reads {table}, which is not a cleaned, curated or reference table"
                )
    _check_cross_practice(models, by_name)
    try:
        order = list(TopologicalSorter({m.name: m.depends_on for m in models}).static_order())
    except CycleError as exc:
        raise ModelError(f"models read each other in a cycle: {' -> '.join(exc.args[1])}") from None
    return [by_name[name] for name in order]


def _check_cross_practice(models: list[Model], by_name: dict[str, Model]) -> None:
    """A cross-practice model is computed from the per-practice curated tables, after them and
    from every practice's rows at once; no model reads one (it belongs to no practice)."""
    for model in models:
        for table in sorted(model.reads):
            read = by_name.get(table.removeprefix("curated."))
            if read is not None and read.contract.cross_practice:
                raise ModelError(f"model {model.name}: reads the cross-practice model {read.name}")
            if model.contract.cross_practice and (read is None or read.contract.materialized != "table"):
                raise ModelError(f"model {model.name}: a cross-practice model reads curated tables only, not {table}")


# Reference tables made from the settings at each curate, not shipped as files: each
# configured practice's time zone and currency (the settings are their one source).
FROM_SETTINGS = frozenset({"practice_settings"})


def _named(folder: Traversable, suffix: str) -> list[str]:
    return sorted(p.name.removesuffix(suffix) for p in folder.iterdir() if p.name.endswith(suffix) and p.is_file())


def reference_tables(folder: Traversable = REFERENCE) -> dict[str, Traversable]:
    return {name: folder.joinpath(name + ".csv") for name in _named(folder, ".csv")}


@cache
def load_models(folder: Traversable = MODELS) -> tuple[Model, ...]:
    models = [_load_one(folder, name) for name in _named(folder, ".sql")]
    return tuple(ordered(models, set(reference_tables()) | FROM_SETTINGS))
