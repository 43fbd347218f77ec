"""Arrow schemas of the cleaned tables (derived from the contracts) and the ops tables."""

from __future__ import annotations

import pyarrow as pa

from practicelake.contracts import Contract, Kind, Pii

TYPES: dict[Kind, pa.DataType] = {
    Kind.STRING: pa.string(),
    Kind.INTEGER: pa.int64(),
    Kind.DECIMAL: pa.decimal128(18, 2),
    Kind.NUMBER: pa.decimal128(9, 4),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.TIME: pa.time64("us"),
    Kind.BOOLEAN: pa.bool_(),
    Kind.CODE_LIST: pa.list_(pa.string()),
}

LINEAGE = [
    pa.field("raw_file_sha256", pa.string(), nullable=False),
    pa.field("raw_line", pa.int64(), nullable=False),
    pa.field("run_id", pa.string(), nullable=False),
    # When the source recorded the row (formats.base.RECORDED), UTC; empty where the source does
    # not say. Optional: cleaned tables made before it gain it, their rows empty.
    pa.field("recorded_at", pa.timestamp("us")),
]


def cleaned_fields(contract: Contract) -> list[pa.Field]:
    """The cleaned table's columns, in contract order, followed by lineage."""
    fields: list[pa.Field] = []
    for column in contract.columns:
        name = column.cleaned_name
        if name is None:
            continue
        if column.pii is Pii.BIRTH_DATE:
            fields.append(pa.field(name, pa.int32()))
            fields.append(pa.field("age_over_89", pa.bool_()))
        elif column.pii in (Pii.PATIENT_ID, Pii.POSTAL_CODE):
            fields.append(pa.field(name, pa.string()))
        else:
            fields.append(pa.field(name, TYPES[column.kind]))
        if column.time_known:
            fields.append(pa.field(column.time_known, pa.bool_()))
    return fields + LINEAGE


def cleaned_schema(contract: Contract) -> pa.Schema:
    return pa.schema(cleaned_fields(contract))


RAW_FILES = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("batch", pa.string(), nullable=False),
        pa.field("source_name", pa.string(), nullable=False),
        pa.field("object_key", pa.string(), nullable=False),
        pa.field("size_bytes", pa.int64(), nullable=False),
        pa.field("received_at", pa.timestamp("us"), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("ingest_id", pa.string(), nullable=False),
        # Added with the source formats: empty in rows written before (practicelake's CSV, ".csv").
        pa.field("format", pa.string()),
        pa.field("extension", pa.string()),
        pa.field("mapping_key", pa.string()),  # the raw object of the CSV mapping the file is read with
    ]
)

FILE_LOADS = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("dataset", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("rows_read", pa.int64(), nullable=False),
        pa.field("rows_accepted", pa.int64(), nullable=False),
        pa.field("rows_quarantined", pa.int64(), nullable=False),
        pa.field("rows_duplicate", pa.int64(), nullable=False),
        pa.field("loaded_at", pa.timestamp("us"), nullable=False),
    ]
)

QUARANTINE = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("raw_file_sha256", pa.string(), nullable=False),
        pa.field("raw_line", pa.int64()),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("column_name", pa.string()),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)

DUPLICATES = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("record_key", pa.string(), nullable=False),
        pa.field("raw_file_sha256", pa.string(), nullable=False),
        pa.field("raw_line", pa.int64(), nullable=False),
        pa.field("kept_raw_file_sha256", pa.string(), nullable=False),
        pa.field("kept_raw_line", pa.int64(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
    ]
)

RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("command", pa.string(), nullable=False),
        pa.field("started_at", pa.timestamp("us"), nullable=False),
        pa.field("finished_at", pa.timestamp("us"), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("practices", pa.list_(pa.string())),
        pa.field("input_files", pa.list_(pa.string())),
        pa.field("output_tables", pa.list_(pa.string())),
        pa.field("rows_read", pa.int64(), nullable=False),
        pa.field("rows_cleaned", pa.int64(), nullable=False),
        pa.field("rows_quarantined", pa.int64(), nullable=False),
        pa.field("rows_duplicate", pa.int64(), nullable=False),
    ]
)

OPS_TABLES: dict[str, tuple[pa.Schema, bool]] = {
    "ops.raw_files": (RAW_FILES, True),
    "ops.file_loads": (FILE_LOADS, True),
    "ops.quarantine": (QUARANTINE, True),
    "ops.duplicates": (DUPLICATES, True),
    "ops.runs": (RUNS, False),
}
