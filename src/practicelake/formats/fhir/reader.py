"""FHIR R4 JSON (a resource, a Bundle, or an NDJSON bulk export) as contract rows.

Which resources feed which dataset is the table `DATASETS`; each mapper is in the module named
after what it maps (scheduling, directory, financial, remittance). A record of a dataset is a
resource of a type that feeds it (for Organization: an insurer for payers, a site for
locations); for charges and adjustments a resource gives one row per item or adjudication.
Every record is either rows or one bad row at its entry: an entry that is not JSON, not a
resource, not a valid R4 resource of its type (fhir.resources R4B, see validation.py), or that
breaks a rule only FHIR knows (money with more than two decimals, a draft Claim). An entry that
cannot be read at all is a bad row of the datasets its type feeds, or of all when its type
cannot be told. Types that feed no dataset (Observation, Condition, ...) are read only to
resolve references.

Asked for it, each row carries when its source recorded it (formats.base.RECORDED): the `meta.lastUpdated` of
the resource it is mapped from (R4 Meta.lastUpdated, an instant: when the resource last changed
on the server that holds it), empty where the resource has none. A provider schedule is made
from a Schedule and many Slots, none of which alone is the row: it has none.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import pyarrow as pa

from practicelake.contracts import BY_DATASET
from practicelake.errors import MalformedFileError
from practicelake.formats.base import POSITION, RECORDED, BadRow, Inspection, ParsedFile, Source
from practicelake.formats.fhir import directory, document, financial, remittance, scheduling
from practicelake.formats.fhir.datatypes import Resource, Row, Unmappable, part, timestamp
from practicelake.formats.fhir.document import Entry
from practicelake.formats.fhir.references import Index
from practicelake.formats.fhir.validation import Verdict, validate

Mapper = Callable[[Resource, Index], list[Row]]
Feeds = Callable[[Resource, Index], bool]


def _always(resource: Resource, index: Index) -> bool:
    return True


def _insurer(resource: Resource, index: Index) -> bool:
    return directory.is_insurer(resource)


def _site(resource: Resource, index: Index) -> bool:
    managed = directory.managed_organizations(index)
    return not directory.is_insurer(resource) and resource.get("id") not in managed


@dataclass(frozen=True)
class Feed:
    """A resource type that feeds a dataset, its mapper, and which of its resources are records of it."""

    resource_type: str
    mapper: Mapper
    feeds: Feeds = _always


DATASETS: dict[str, tuple[Feed, ...]] = {
    "appointments": (Feed("Appointment", scheduling.appointment),),
    "encounters": (Feed("Encounter", scheduling.encounter),),
    "patients": (Feed("Patient", directory.patient),),
    "providers": (Feed("Practitioner", directory.practitioner),),
    "locations": (
        Feed("Location", directory.location),
        Feed("Organization", directory.organization_site, _site),
    ),
    "payers": (
        Feed("Organization", directory.organization_payer, _insurer),
        Feed("Coverage", directory.coverage_payers),
    ),
    "claims": (Feed("Claim", financial.claim),),
    "charges": (Feed("Claim", financial.charges),),
    "claim_outcomes": (
        Feed("ClaimResponse", remittance.claim_outcome),
        Feed("ExplanationOfBenefit", remittance.claim_outcome),
    ),
    "payments": (
        Feed("ClaimResponse", remittance.payment),
        Feed("ExplanationOfBenefit", remittance.payment),
    ),
    "adjustments": (
        Feed("ClaimResponse", remittance.adjustments),
        Feed("ExplanationOfBenefit", remittance.adjustments),
    ),
}
SCHEDULES = "provider_schedules"  # Schedule + Slot: one record per practitioner Schedule and day
SCHEDULE_TYPES = ("Schedule", "Slot")
INVALID = "fhir_invalid"
UNREADABLE = "fhir_entry"


class File:
    """One file's entries, their index, and each mapped resource's verdict (validated once)."""

    def __init__(self, data: bytes) -> None:
        self.entries = document.read(data)
        self.index = Index((e.resource, e.full_url) for e in self.entries if e.resource is not None)
        self.verdicts: dict[int, Verdict] = {}
        self.naive_times = 0

    def verdict(self, number: int, entry: Entry) -> Verdict:
        if number not in self.verdicts:
            assert entry.resource is not None
            self.verdicts[number] = found = validate(entry.resource)
            self.naive_times += found.naive_times
        return self.verdicts[number]

    def types(self, dataset: str) -> tuple[str, ...]:
        if dataset == SCHEDULES:
            return SCHEDULE_TYPES
        return tuple(source.resource_type for source in DATASETS[dataset])

    def feeds(self, dataset: str) -> bool:
        kinds = self.types(dataset)
        for entry in self.entries:
            if entry.resource is None:
                if entry.resource_type in kinds:
                    return True
                continue
            for source in DATASETS.get(dataset, ()):
                if source.resource_type == entry.resource_type and source.feeds(entry.resource, self.index):
                    return True
            if dataset == SCHEDULES and entry.resource_type in kinds:
                return True
        return False

    def unreadable(self, dataset: str, fed: tuple[str, ...]) -> Iterator[BadRow]:
        """Entries that cannot be read: of this dataset when their text names one of its types,
        of every dataset the file feeds when it names none (an unmapped type is no record)."""
        kinds = self.types(dataset)
        for entry in self.entries:
            if entry.resource is not None:
                continue
            if entry.resource_type in kinds or (entry.resource_type is None and dataset in fed):
                yield BadRow(entry.position, entry.error or "the entry cannot be read", UNREADABLE)


def _table(dataset: str, rows: list[tuple[int, Row]], wanted: Collection[str] | None = None) -> pa.Table:
    """The rows in the contract's columns, those the caller reads (all by default): the others,
    names and contact details, are not kept beyond the resources in raw."""
    names = [c for c in BY_DATASET[dataset].column_names if c != "practice_id" and (wanted is None or c in wanted)]
    if wanted is not None and RECORDED in wanted:
        names.append(RECORDED)
    columns = {name: pa.array([row.get(name) for _, row in rows], type=pa.string()) for name in names}
    columns[POSITION] = pa.array([position for position, _ in rows], type=pa.int64())
    return pa.table(columns)


class FhirR4:
    name = "fhir-r4"
    unit = "entry"
    description = "FHIR R4 JSON: a resource, a Bundle (entries numbered from 1) or an NDJSON bulk export (by line)"

    def sniff(self, source: Source) -> bool:
        return document.sniff(source.data)

    def inspect(self, source: Source) -> Inspection:
        file = File(source.data)
        datasets = tuple(d for d in (*DATASETS, SCHEDULES) if file.feeds(d))
        warnings = () if datasets else ("the file holds no resource of a type practicelake maps",)
        return Inspection(datasets=datasets, warnings=warnings)

    def read(self, data: bytes, dataset: str, columns: Collection[str] | None = None) -> ParsedFile:
        if dataset not in DATASETS and dataset != SCHEDULES:
            raise MalformedFileError(f"FHIR R4 does not feed dataset {dataset}")
        file = File(data)
        fed = tuple(d for d in (*DATASETS, SCHEDULES) if file.feeds(d))
        bad = list(file.unreadable(dataset, fed))
        rows = self._schedules(file, bad) if dataset == SCHEDULES else self._rows(file, dataset, bad)
        if dataset == "payers":
            rows = _first_of_each(rows, "payer_id")
        warnings = []
        if file.naive_times:
            warnings.append(f"{file.naive_times} resources give times without an offset: read as wall time")
        return ParsedFile(rows=_table(dataset, rows, columns), bad_rows=bad, warnings=tuple(warnings))

    def _rows(self, file: File, dataset: str, bad: list[BadRow]) -> list[tuple[int, Row]]:
        rows: list[tuple[int, Row]] = []
        for number, entry in enumerate(file.entries):
            if entry.resource is None:
                continue
            for source in DATASETS[dataset]:
                if source.resource_type != entry.resource_type or not source.feeds(entry.resource, file.index):
                    continue
                verdict = file.verdict(number, entry)
                if verdict.error is not None:
                    bad.append(BadRow(entry.position, verdict.error, INVALID))
                    continue
                try:
                    mapped = source.mapper(entry.resource, file.index)
                except Unmappable as problem:
                    bad.append(BadRow(entry.position, problem.detail, problem.rule))
                    continue
                recorded = timestamp(part(entry.resource, "meta").get("lastUpdated"))
                rows.extend((entry.position, row | {RECORDED: recorded}) for row in mapped)
        return rows

    def _schedules(self, file: File, bad: list[BadRow]) -> list[tuple[int, Row]]:
        schedules: list[tuple[int, Resource]] = []
        slots: list[Resource] = []
        for number, entry in enumerate(file.entries):
            if entry.resource is None or entry.resource_type not in SCHEDULE_TYPES:
                continue
            verdict = file.verdict(number, entry)
            if verdict.error is not None:
                bad.append(BadRow(entry.position, verdict.error, INVALID))
            elif entry.resource_type == "Schedule":
                schedules.append((entry.position, entry.resource))
            else:
                slots.append(entry.resource)
        return scheduling.provider_schedules(schedules, slots, file.index)


def _first_of_each(rows: list[tuple[int, Row]], key: str) -> list[tuple[int, Row]]:
    """One row per payer: a payer named again (by another Coverage) is the same payer."""
    seen: set[str | None] = set()
    kept = []
    for position, row in rows:
        if row.get(key) not in seen or row.get(key) is None:
            seen.add(row.get(key))
            kept.append((position, row))
    return kept


FORMAT = FhirR4()
