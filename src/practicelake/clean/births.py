"""A visit before the patient was born is a data error: quarantined, with its own rule.

The cleaned zone keeps a patient's birth year only (never the date), so the check is by year:
a visit in a year before the patient's birth year. Patients are loaded before visits in every
run (contracts.CONTRACTS), so the cleaned patient table holds every patient a visit can name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog import Catalog
from pyiceberg.expressions import In, Reference

from practicelake.clean.checks import Violation
from practicelake.clean.files import CleanedChunk, counts_by_file, quarantine_rows
from practicelake.contracts import Contract

# The entities whose rows are visits, and the column holding the visit's date. (An appointment
# may be booked for a baby not yet born; a visit cannot take place before the birth.)
VISIT_DATE = {"encounter": "encounter_date"}
BEFORE_BIRTH = Violation("visit_before_birth", None, "the visit is in a year before the patient's birth year")

# Only births after the chunk's first visit year can make a visit too early: the others are
# left out of the join.
CHECK = """
with early_births as (
    select practice_id, patient_key, birth_year from births
    where birth_year > (select min(year(visit_date)) from chunk_visits)
)
select c.row_number
from chunk_visits as c
inner join early_births as b on b.practice_id = c.practice_id and b.patient_key = c.patient_key
where year(c.visit_date) < b.birth_year
"""


def load_births(con: duckdb.DuckDBPyConnection, catalog: Catalog, practices: list[str]) -> None:
    """The birth years of the practices' patients, as the table `births` of `con`."""
    births = pa.table({"practice_id": pa.array([], pa.string()), "patient_key": pa.array([], pa.string())})
    births = births.append_column("birth_year", pa.array([], pa.int32()))
    if catalog.table_exists("cleaned.patient") and practices:
        chosen = In(Reference("practice_id"), practices)  # type: ignore[call-arg,arg-type]
        scan = catalog.load_table("cleaned.patient").scan(
            row_filter=chosen, selected_fields=("practice_id", "patient_key", "birth_year")
        )
        births = scan.to_arrow().filter(pc.is_valid(pc.field("birth_year")))
    con.register("births", births)


def reject_visits_before_birth(con: duckdb.DuckDBPyConnection, contract: Contract, chunk: CleanedChunk) -> CleanedChunk:
    """The chunk with its visits dated before the patient's birth year moved to quarantine."""
    column = VISIT_DATE.get(contract.entity)
    if column is None or chunk.accepted.num_rows == 0:
        return chunk
    accepted = chunk.accepted
    visits = pa.table(
        {
            "row_number": pa.array(np.arange(accepted.num_rows, dtype=np.int64)),
            "practice_id": accepted["practice_id"],
            "patient_key": accepted["patient_key"],
            "visit_date": accepted[column],
        }
    )
    con.register("chunk_visits", visits)  # beside `births`: registered tables are the connection's own
    found = con.execute(CHECK).to_arrow_table()["row_number"]
    con.unregister("chunk_visits")
    if len(found) == 0:
        return chunk
    bad = pc.is_in(visits["row_number"], found)
    moved = accepted.filter(bad)
    n = moved.num_rows
    quarantined = quarantine_rows(
        contract.entity,
        str(moved["run_id"][0]),
        moved["practice_id"].to_pylist(),
        moved["raw_file_sha256"].to_pylist(),
        moved["raw_line"].to_pylist(),
        [BEFORE_BIRTH] * n,
    )
    kept = accepted.filter(pc.invert(bad))
    lost: Counter[tuple[str, str]] = Counter(
        zip(moved["practice_id"].to_pylist(), moved["raw_file_sha256"].to_pylist(), strict=True)
    )
    return replace(
        chunk,
        accepted=kept,
        quarantined=pa.concat_tables([chunk.quarantined, quarantined]),
        rows_accepted=counts_by_file(kept),
        rows_quarantined=chunk.rows_quarantined + lost,
    )
