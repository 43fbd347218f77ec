"""A small curated zone written straight through pyiceberg, for the read path's tests.

Two practices with values that cannot be mistaken for each other: P001's visit counts are
below 100, P002's are 900 and above, so a leak of P002 shows in any sum or listing. Each write
is then recorded as what readers see, as a completed curate records its tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog import Catalog

from lakes import local_settings
from practicelake.curate.snapshots import record_current
from practicelake.lakehouse.catalog import ensure_table, open_catalog
from practicelake.settings import Settings

VISITS = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("month", pa.date32(), nullable=False),
        pa.field("visits", pa.int64()),
        pa.field("charges", pa.decimal128(18, 2)),
        pa.field("no_show_rate", pa.float64()),
    ]
)
PAYER_MIX = pa.schema(
    [
        pa.field("practice_id", pa.string(), nullable=False),
        pa.field("payer_type", pa.string(), nullable=False),
        pa.field("share", pa.float64()),
    ]
)
VISIT_ROWS = [
    {
        "practice_id": "P001",
        "month": date(2024, 1, 1),
        "visits": 10,
        "charges": Decimal("1500.00"),
        "no_show_rate": 0.1,
    },
    {
        "practice_id": "P001",
        "month": date(2024, 2, 1),
        "visits": 20,
        "charges": Decimal("2500.50"),
        "no_show_rate": None,
    },
    {
        "practice_id": "P002",
        "month": date(2024, 1, 1),
        "visits": 900,
        "charges": Decimal("99000.00"),
        "no_show_rate": 0.3,
    },
    {
        "practice_id": "P002",
        "month": date(2024, 2, 1),
        "visits": 950,
        "charges": Decimal("98000.00"),
        "no_show_rate": 0.2,
    },
]
PAYER_MIX_ROWS = [
    {"practice_id": "P001", "payer_type": "insurer", "share": 0.75},
    {"practice_id": "P001", "payer_type": "self-pay", "share": 0.25},
    {"practice_id": "P002", "payer_type": "government", "share": 1.0},
]


def write_table(
    catalog: Catalog, name: str, schema: pa.Schema, rows: list[dict[str, object]], *, pin: bool = True
) -> None:
    """Append `rows`; with `pin`, every curated table as it now is becomes what readers see."""
    table = ensure_table(catalog, "curated." + name, schema)
    table.append(pa.Table.from_pylist(rows, schema=schema))
    if pin:
        record_current(catalog, "test-write")


def curated_lake(root: Path) -> Settings:
    """Settings of a local lakehouse whose curated zone holds `visits` and `payer_mix`."""
    settings = local_settings(root)
    catalog = open_catalog(settings)
    write_table(catalog, "visits", VISITS, VISIT_ROWS)
    write_table(catalog, "payer_mix", PAYER_MIX, PAYER_MIX_ROWS)
    return settings
