"""Patient -> patients, Practitioner -> providers, Location and Organization -> locations,
Organization and Coverage -> payers.

Patient (R4 8.1): patient_id its MR identifier (v2-0203), else its id; the official name (else
the first), the first phone and email of telecom, the home address (else the first), gender,
birthDate. These are PII: they are written to the row, and the contract decides what leaves the
raw zone. member_number and primary_payer_id come from the file's Coverage whose beneficiary is
the patient: the one of order 1, else the first active one; the member number is
Coverage.subscriberId, else its identifier typed MB (v2-0203 member number), else its first.
FHIR has no registration date: registered_on stays empty.

Practitioner (R4 8.4): provider_id id; display_name name.text, else given and family names
(a prefix such as "Dr." is a title, not a name); specialty the first specialty of a
PractitionerRole of the file for the practitioner, else its first qualification; active.

Location (R4 8.10): location_id id, name, address.postalCode.

Organization (R4 8.2): one typed `ins` or `pay` (organization-type) is a payer: `government`
when it is also typed `govt`, else `insurer`. Any other Organization is a site of the practice
(`locations`) only when no Location of the file is managed by it, so that a site a system
exports as both is counted once; the practice itself is configured, never read from a file.

Coverage (R4 13.2): each payor that the file does not describe as an Organization is a payer,
named by its reference's display; its type from Coverage.type: coverage-selfpay -> self_pay,
v3 public-programme policies -> government, other v3 insurance policies -> insurer. A payor
that is the patient or a related person is no payer record (its id would be a person's).
"""

from __future__ import annotations

from collections.abc import Mapping

from practicelake.formats.fhir.datatypes import Resource, Row, codes, label, listed, part, text
from practicelake.formats.fhir.references import Index, key_of, patient_key

INSURER_TYPES = frozenset({"ins", "pay"})  # http://terminology.hl7.org/CodeSystem/organization-type
SELF_PAY = "http://terminology.hl7.org/CodeSystem/coverage-selfpay"
# v3 ActCode public healthcare programmes (_ActCoverageTypeCode / _PublicHealthcareProgramCode).
GOVERNMENT_POLICIES = frozenset(
    {"PUBLICPOL", "DENTPRG", "DISEASEPRG", "CANPRG", "ENDRENAL", "HIVAIDS", "MANDPOL", "MENTPRG", "SAFNET", "SUBPRG"}
    | {"SUBSIDIZ", "SUBSIDMC", "SUBSUPP", "WCBPOL"}
)
PERSONS = ("Patient", "RelatedPerson")


def patient(resource: Resource, index: Index) -> list[Row]:
    key = patient_key(resource)
    name = _preferred(listed(resource, "name"), "official")
    address = _preferred(listed(resource, "address"), "home")
    coverage = _primary_coverage(index, key)
    given = listed(name, "given")
    lines = [str(line) for line in listed(address, "line")]
    return [
        {
            "patient_id": key,
            "first_name": text(given[0]) if given else None,
            "last_name": text(name.get("family")),
            "date_of_birth": text(resource.get("birthDate")),
            "sex": text(resource.get("gender")),
            "phone": _telecom(resource, "phone"),
            "email": _telecom(resource, "email"),
            "address_line": ", ".join(lines) or None,
            "city": text(address.get("city")),
            "postal_code": text(address.get("postalCode")),
            "member_number": _member_number(coverage) if coverage else None,
            "primary_payer_id": _payor_key(index, coverage) if coverage else None,
        }
    ]


def _preferred(values: list[object], use: str) -> Mapping[str, object]:
    found = [v for v in values if isinstance(v, Mapping)]
    return next((v for v in found if v.get("use") == use), found[0] if found else {})


def _telecom(resource: Resource, system: str) -> str | None:
    for point in listed(resource, "telecom"):
        if isinstance(point, Mapping) and point.get("system") == system and point.get("value"):
            return str(point["value"])
    return None


def _primary_coverage(index: Index, patient_id: str | None) -> Resource | None:
    covering = [c for c in index.by_type.get("Coverage", []) if index.key(c.get("beneficiary"), c) == patient_id]
    first = [c for c in covering if c.get("order") == 1]
    active = [c for c in covering if c.get("status") == "active"]
    chosen = first or active
    return chosen[0] if chosen else None


def _member_number(coverage: Resource) -> str | None:
    if coverage.get("subscriberId"):
        return str(coverage["subscriberId"])
    identifiers = [i for i in listed(coverage, "identifier") if isinstance(i, Mapping) and i.get("value")]
    member = [i for i in identifiers if any(code == "MB" for _, code in codes(i.get("type")))]
    chosen = member or identifiers
    return str(chosen[0]["value"]) if chosen else None


def _payor_key(index: Index, coverage: Resource) -> str | None:
    for payor in listed(coverage, "payor"):
        target = index.resolve(payor, coverage)
        if target.type not in PERSONS and target.key:
            return target.key
    return None


def practitioner(resource: Resource, index: Index) -> list[Row]:
    name = _preferred(listed(resource, "name"), "official")
    display = text(name.get("text")) or " ".join(
        [str(g) for g in listed(name, "given")] + ([str(name["family"])] if name.get("family") else [])
    )
    qualifications = [q for q in listed(resource, "qualification") if isinstance(q, Mapping)]
    specialty = _specialties(index).get(str(resource.get("id"))) or (
        label(qualifications[0].get("code")) if qualifications else None
    )
    active = resource.get("active")
    return [
        {
            "provider_id": text(resource.get("id")),
            "display_name": display or None,
            "specialty": specialty,
            "active": None if active is None else str(active).lower(),
        }
    ]


def _specialties(index: Index) -> dict[str, str]:
    """The first specialty of each practitioner's roles in the file, by practitioner id."""
    if "specialties" not in index.derived:
        found: dict[str, str] = {}
        for role in index.by_type.get("PractitionerRole", []):
            key = index.key(role.get("practitioner"), role)
            named = next((label(s) for s in listed(role, "specialty") if label(s)), None)
            if key and named:
                found.setdefault(key, named)
        index.derived["specialties"] = found
    specialties: dict[str, str] = index.derived["specialties"]
    return specialties


def location(resource: Resource, index: Index) -> list[Row]:
    address = part(resource, "address")
    return [
        {
            "location_id": text(resource.get("id")),
            "name": text(resource.get("name")),
            "postal_code": text(address.get("postalCode")),
        }
    ]


def organization_types(resource: Resource) -> set[str]:
    return {code for concept in listed(resource, "type") for _, code in codes(concept)}


def is_insurer(resource: Resource) -> bool:
    return bool(organization_types(resource) & INSURER_TYPES)


def managed_organizations(index: Index) -> set[str]:
    """The ids of the Organizations that manage a Location of the file."""
    if "managing" not in index.derived:
        index.derived["managing"] = {
            key
            for place in index.by_type.get("Location", [])
            if (key := index.key(place.get("managingOrganization"), place)) is not None
        }
    managing: set[str] = index.derived["managing"]
    return managing


def organization_site(resource: Resource, index: Index) -> list[Row]:
    if is_insurer(resource) or key_of(resource) in managed_organizations(index):
        return []
    address = _preferred(listed(resource, "address"), "work")
    return [
        {
            "location_id": text(resource.get("id")),
            "name": text(resource.get("name")),
            "postal_code": text(address.get("postalCode")),
        }
    ]


def organization_payer(resource: Resource, index: Index) -> list[Row]:
    if not is_insurer(resource):
        return []
    kind = "government" if "govt" in organization_types(resource) else "insurer"
    return [{"payer_id": text(resource.get("id")), "name": text(resource.get("name")), "payer_type": kind}]


def coverage_payers(resource: Resource, index: Index) -> list[Row]:
    """The payors of a Coverage that no insurer Organization of the file describes."""
    rows: list[Row] = []
    for payor in listed(resource, "payor"):
        target = index.resolve(payor, resource)
        if target.type in PERSONS or not target.key:
            continue
        if target.resource is not None and target.resource.get("resourceType") == "Organization":
            continue  # the Organization is the payer's own record
        name = text(payor.get("display")) if isinstance(payor, Mapping) else None
        rows.append({"payer_id": target.key, "name": name, "payer_type": coverage_type(resource)})
    return rows


def coverage_type(resource: Resource) -> str | None:
    for system, code in codes(resource.get("type")):
        if system == SELF_PAY:
            return "self_pay"
        if code in GOVERNMENT_POLICIES:
            return "government"
        if system == "http://terminology.hl7.org/CodeSystem/v3-ActCode":
            return "insurer"
        return code
    return None
