"""Random and mutated FHIR files give rows, positioned bad rows or MalformedFileError, never any
other exception, and every record of a dataset is counted (rows_read)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from fhir_samples import EXAMPLES, plain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practicelake.errors import MalformedFileError
from practicelake.formats.base import ParsedFile, Source
from practicelake.formats.fhir.reader import DATASETS, FORMAT

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLES = [
    plain(EXAMPLES / name)
    for name in (
        "scheduling/Appointment-example.json",
        "scheduling/Appointment-examplereq.json",
        "financial/Claim-100151.json",
        "financial/Claim-100153.json",
        "financial/ClaimResponse-R3500.json",
        "financial/ExplanationOfBenefit-EB3500.json",
        "financial/Coverage-9876B1.json",
    )
]
LINES = [json.dumps(r, default=str) for r in SAMPLES]
BUNDLE = json.dumps(
    {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in SAMPLES]}, default=str
)
ONE_TO_ONE = ("appointments", "claims", "claim_outcomes", "encounters", "patients")  # a record is a resource
NAMED = re.compile(r'"resourceType"\s*:\s*"([A-Za-z]{1,64})"')
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def read_everything(data: bytes) -> dict[str, ParsedFile] | None:
    """Each dataset the file feeds, read; None when the file is malformed."""
    try:
        inspection = FORMAT.inspect(Source(data, "export.ndjson"))
    except MalformedFileError as error:
        assert "\n" not in str(error)
        return None
    parsed = {dataset: FORMAT.read(data, dataset) for dataset in inspection.datasets}
    for result in parsed.values():
        positions = result.rows.column("raw_line").to_pylist() + [b.line for b in result.bad_rows]
        assert all(p >= 1 for p in positions)
    return parsed


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    read_everything(data)


@SETTINGS
@given(st.data())
def test_mutated_bundle_bytes(data: st.DataObject) -> None:
    raw = bytearray(BUNDLE.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        operation = data.draw(st.sampled_from(["drop", "duplicate", "change"]))
        if operation == "drop":
            del raw[at : at + data.draw(st.integers(1, 20))]
        elif operation == "duplicate":
            raw[at:at] = raw[at : at + data.draw(st.integers(1, 40))]
        else:
            raw[at] = data.draw(st.integers(0, 255))
    parsed = read_everything(bytes(raw))
    if parsed is not None:
        for dataset in ONE_TO_ONE:
            if dataset in parsed:
                assert parsed[dataset].rows_read <= len(SAMPLES) + 40


def expected_records(lines: list[str], dataset: str, fed: set[str]) -> int:
    """Plain counting: lines that are resources of the dataset's type, broken lines naming it,
    and broken lines naming no type (a record of every dataset the file feeds)."""
    kinds = {feed.resource_type for feed in DATASETS[dataset]}
    count = 0
    for line in "\n".join(lines).split("\n"):
        if not line.strip(" \t\r"):
            continue
        try:
            value = json.loads(line, parse_float=Decimal)
        except ValueError:
            named = NAMED.search(line)
            count += (named[1] in kinds) if named else (dataset in fed)
            continue
        if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
            count += value["resourceType"] in kinds
        else:
            count += dataset in fed
    return count


@SETTINGS
@given(st.data())
def test_mutated_ndjson_loses_no_record(data: st.DataObject) -> None:
    lines = data.draw(st.lists(st.sampled_from(LINES), min_size=2, max_size=8))
    lines = list(data.draw(st.permutations(lines)))
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(lines) - 1))
        operation = data.draw(st.sampled_from(["cut", "blank", "duplicate", "drop", "garbage"]))
        if operation == "cut":
            lines[at] = lines[at][: data.draw(st.integers(0, len(lines[at])))]
        elif operation == "blank":
            lines.insert(at, "")
        elif operation == "duplicate":
            lines.insert(at, lines[at])
        elif operation == "drop" and len(lines) > 1:
            del lines[at]
        else:
            lines[at] = data.draw(st.text(max_size=30))
    parsed = read_everything("\n".join(lines).encode())
    if parsed is None:
        return  # the first line is no resource: the file cannot be told to be NDJSON
    for dataset in ONE_TO_ONE:
        if dataset in parsed:
            assert parsed[dataset].rows_read == expected_records(lines, dataset, set(parsed)), dataset


@SETTINGS
@given(st.sampled_from(SAMPLES), st.data())
def test_random_values_in_a_resource(resource: dict[str, Any], data: st.DataObject) -> None:
    mutated = json.loads(json.dumps(resource, default=str))
    for _ in range(data.draw(st.integers(1, 3))):
        field = data.draw(st.sampled_from([*sorted(mutated), "item", "payment", "participant", "total"]))
        if field != "resourceType":
            mutated[field] = data.draw(JSON)
    parsed = read_everything(json.dumps(mutated).encode())
    assert parsed is not None
    kind = resource["resourceType"]
    for dataset, result in parsed.items():
        if dataset in ONE_TO_ONE and kind in {f.resource_type for f in DATASETS[dataset]}:
            assert result.rows_read == 1
        for bad in result.bad_rows:
            assert bad.line == 1 and bad.detail
