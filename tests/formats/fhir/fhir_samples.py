"""The FHIR sample files the tests read, and what every read of a file must hold."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from practicelake.formats.base import POSITION, ParsedFile, Source
from practicelake.formats.fhir.reader import FORMAT

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats" / "fhir"
EXAMPLES = FIXTURES / "r4-examples"
SYNTHEA = FIXTURES / "synthea"
PATIENT_BUNDLES = sorted((SYNTHEA / "fhir").glob("[CT]*.json.gz"))
HOSPITALS = next((SYNTHEA / "fhir").glob("hospitalInformation*.json.gz"))
PRACTITIONERS = next((SYNTHEA / "fhir").glob("practitionerInformation*.json.gz"))


def data_of(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def plain(path: Path) -> Any:
    """The file as plain JSON, decimals exact: what the tests compute their figures from."""
    return json.loads(data_of(path), parse_float=Decimal)


def resources(path: Path) -> list[dict[str, Any]]:
    document = plain(path)
    if document["resourceType"] == "Bundle":
        return [entry["resource"] for entry in document["entry"]]
    return [document]


def read_all(data: bytes) -> dict[str, ParsedFile]:
    """Every dataset the file feeds, read; each checked for the shape every read must have."""
    inspection = FORMAT.inspect(Source(data, "export.json"))
    parsed = {dataset: FORMAT.read(data, dataset) for dataset in inspection.datasets}
    for result in parsed.values():
        assert result.rows.column(POSITION).null_count == 0
        for name in result.rows.column_names:
            if name != POSITION:
                assert all(v is None or isinstance(v, str) for v in result.rows.column(name).to_pylist())
    return parsed


def rows(parsed: dict[str, ParsedFile], dataset: str) -> list[dict[str, Any]]:
    return parsed[dataset].rows.to_pylist() if dataset in parsed else []


def without_position(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != POSITION} for row in found]


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
