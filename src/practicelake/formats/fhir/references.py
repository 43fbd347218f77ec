"""What a FHIR Reference (R4 2.3.0) points at, within one file.

A reference resolves to the referenced resource when the file holds it: by `Bundle.entry.fullUrl`
(`urn:uuid:...`), by `Type/id` (relative or absolute, `_history` ignored), by `#id` to a
contained resource, or by identifier (a conditional reference `Type?identifier=system|value`, or
`Reference.identifier`). The id it resolves to is the resource's id, except a Patient's, which is
its key (patients.patient_id: its MR identifier, else its id). A reference the file cannot
resolve keeps the id it names: the `id` of `Type/id`, the uuid of `urn:uuid:`, the value of an
identifier; a reference by display alone names none.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from practicelake.formats.fhir.datatypes import Resource, codes, listed

LITERAL = re.compile(r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
CONDITIONAL = re.compile(r"(?P<type>[A-Z][A-Za-z]+)\?identifier=(?:(?P<system>[^|&]*)\|)?(?P<value>[^&]+)")
URN = re.compile(r"urn:(?:uuid|oid):(?P<id>.+)")
MEDICAL_RECORD = "MR"  # v2-0203 identifier type: medical record number


@dataclass(frozen=True)
class Target:
    type: str | None  # the resource type referenced, when the reference says or the file knows
    key: str | None  # the id it resolves to (or names)
    resource: Resource | None = None


def patient_key(patient: Resource) -> str | None:
    """A Patient's id in the contracts: its identifier typed MR (v2-0203), else its id."""
    for identifier in listed(patient, "identifier"):
        if not isinstance(identifier, Mapping):
            continue
        if identifier.get("value") and any(code == MEDICAL_RECORD for _, code in codes(identifier.get("type"))):
            return str(identifier["value"])
    return _id(patient)


def _id(resource: Resource) -> str | None:
    value = resource.get("id")
    return str(value) if isinstance(value, str) and value else None


def key_of(resource: Resource) -> str | None:
    return patient_key(resource) if resource.get("resourceType") == "Patient" else _id(resource)


class Index:
    """The resources of one file, by every name a reference may use for them."""

    def __init__(self, resources: Iterable[tuple[Resource, str | None]]) -> None:
        self.by_url: dict[str, Resource] = {}
        self.by_identifier: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        self.derived: dict[str, Any] = {}  # what mappers compute once per file (a role's practitioner...)
        for resource, full_url in resources:
            kind = str(resource.get("resourceType"))
            self.by_type[kind].append(resource)
            if full_url:
                self.by_url[full_url] = resource
            if _id(resource):
                self.by_url.setdefault(f"{kind}/{resource['id']}", resource)
            for identifier in listed(resource, "identifier"):
                if isinstance(identifier, Mapping) and isinstance(identifier.get("value"), str):
                    system = identifier.get("system")
                    self.by_identifier[(str(system or ""), identifier["value"])].append(resource)
                    self.by_identifier[("*", identifier["value"])].append(resource)

    def resolve(self, reference: object, container: Resource | None = None) -> Target:
        if not isinstance(reference, Mapping):
            return Target(None, None)
        declared = reference.get("type") if isinstance(reference.get("type"), str) else None
        literal = reference.get("reference")
        if isinstance(literal, str) and literal:
            return self._literal(literal, declared, container)
        identifier = reference.get("identifier")
        if isinstance(identifier, Mapping) and isinstance(identifier.get("value"), str):
            system = identifier.get("system")
            return self._by_identifier(declared, system if isinstance(system, str) else None, identifier["value"])
        return Target(declared, None)

    def key(self, reference: object, container: Resource | None = None) -> str | None:
        return self.resolve(reference, container).key

    def _literal(self, literal: str, declared: str | None, container: Resource | None) -> Target:
        if literal.startswith("#"):
            for contained in listed(container or {}, "contained"):
                if isinstance(contained, Mapping) and contained.get("id") == literal[1:]:
                    return _found(contained)
            return Target(declared, None)
        found = self.by_url.get(literal)
        if found is not None:
            return _found(found)
        conditional = CONDITIONAL.fullmatch(literal)
        if conditional is not None:
            return self._by_identifier(conditional["type"], conditional["system"], conditional["value"])
        named = LITERAL.search(literal)
        if named is not None:
            found = self.by_url.get(f"{named['type']}/{named['id']}")
            return _found(found) if found is not None else Target(named["type"], named["id"])
        urn = URN.fullmatch(literal)
        if urn is not None:
            return Target(declared, urn["id"])
        # An absolute URL that is not `Type/id` (a payer's own claim URL) names its last segment.
        return Target(declared, literal.rstrip("/").rsplit("/", 1)[-1] if "://" in literal else literal)

    def _by_identifier(self, kind: str | None, system: str | None, value: str) -> Target:
        candidates = self.by_identifier.get((system if system is not None else "*", value), [])
        matching = [c for c in candidates if kind is None or c.get("resourceType") == kind]
        if len({id(c) for c in matching}) == 1:
            return _found(matching[0])
        return Target(kind, value)


def _found(resource: Resource) -> Target:
    return Target(str(resource.get("resourceType")), key_of(resource), resource)


def first_key(index: Index, references: Iterable[Any], kinds: tuple[str, ...], container: Resource) -> str | None:
    """The id of the first reference among `references` to a resource of one of `kinds`."""
    for reference in references:
        target = index.resolve(reference, container)
        if target.type in kinds and target.key:
            return target.key
    return None
