"""X12 837P professional claims (005010X222A1, and 004010X098A1) -> claims, charges, encounters
and patients. An 837I (institutional, X223/X096) or 837D (dental, X224/X097) is refused.

claims, one row per CLM (loop 2300), at its CLM:
  claim_id, encounter_id CLM01 (the patient control number: the practice's account for the
  visit) | patient_id (below) | payer_id the subscriber loop's NM1*PR NM109 (2010BB), else
  `name:` and its name | provider_id NM1*85 NM109 (2010AA billing provider)
  submitted_at BHT04 + BHT05, the sender's wall time (X12 gives no offset) | billed_amount CLM02
  claim_status `submitted`, `void` when the claim frequency (CLM05-3) is 8
charges, one row per LX (loop 2400), at its LX:
  charge_id CLM01, `:`, LX01 | encounter_id CLM01 | procedure_code SV101-2 | modifier SV101-3
  (the first; SV101-4..6 have no column) | units SV104 (`1.00` is 1) | amount SV102
  service_date DTP*472 of the line (an RD8 range: its first day), else of the claim
  posted_date the BHT04 date | provider_id NM1*82 of the line (2420A), else of the claim
  (2310B), else the billing provider
encounters, one row per CLM, at its CLM: encounter_id CLM01 | encounter_date the first service
  date of its lines | place_of_service CLM05-1 | location_id NM1*77 NM109 (2310C) |
  provider_id as the claim's rendering provider | diagnosis_codes the HI codes qualified ABK
  (ICD-10-CM principal) then ABF (other), '|'-separated. ICD-9-CM codes (BK, BF) are not what
  the ICD-10 column holds: they are left out, with a warning. The diagnosis pointers of a line
  (SV107) have no column in the charge contract: the line's diagnoses stay in raw.
patients, one row per patient loop holding claims (HL*22 when the subscriber is the patient,
  else HL*23), at its HL: names NM103/NM104, date_of_birth DMG02, sex DMG03 (M, F, U), address
  N301 (N302 after a comma), city N401, postal_code N403, member_number the patient's NM109,
  else the subscriber's, primary_payer_id the payer when SBR01 is P.

patient_id: the patient's member id, NM109 of NM1*QC (loop 2010CA) when it has one, else of the
subscriber (NM1*IL, 2010BA) when the patient is the subscriber. A 5010 dependent has no id of
their own: theirs is the subscriber's id, `-`, and a hash of the dependent's name and birth
date, so that two children of one subscriber stay apart. It is pseudonymised by the transform.

A CLM02 that is not the sum of its lines' SV102 (837 TR3, loop 2300 CLM02) is read with a
warning: the lines are what was billed. An LX without an SV1 is a bad charge row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from decimal import Decimal

from practicelake.formats.base import ParsedFile
from practicelake.formats.x12.claim_loops import Claim, ClaimSet, Insured, Party, claim_sets
from practicelake.formats.x12.datasets import DatasetRows
from practicelake.formats.x12.elements import amount, date_text, element, money, money_text, timestamp_text, whole_text
from practicelake.formats.x12.segments import Document, Transaction
from practicelake.formats.x12.transaction_format import TransactionSetFormat
from practicelake.settings import cited

CLAIMS, CHARGES, ENCOUNTERS, PATIENTS = "claims", "charges", "encounters", "patients"
PROFESSIONAL = ("005010X222", "004010X098")
OTHER_837 = {
    "005010X223": "an 837I (institutional claim)",
    "004010X096": "an 837I (institutional claim)",
    "005010X224": "an 837D (dental claim)",
    "004010X097": "an 837D (dental claim)",
}
SEXES = {"M": "male", "F": "female", "U": "unknown"}
ICD10, ICD9 = ("ABK", "ABF"), ("BK", "BF")
NO_SERVICE = "no_service_line"
_COMPOSITE_LOOKALIKE = re.compile(r"[A-Z0-9]{1,3}([^A-Za-z0-9 .\-])")


class Composites:
    """Composite elements split on the declared component separator; a file that writes
    another one (`HC>99213` where ISA16 is `:`, as some re-keyed examples do) is read with it,
    once warned."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings
        self.warned = False

    def split(self, value: str | None, component: str, position: int) -> list[str]:
        if not value:
            return []
        if component in value:
            return value.split(component)
        other = _COMPOSITE_LOOKALIKE.match(value)
        if other is None:
            return [value]
        if not self.warned:
            self.warned = True
            self.warnings.append(
                f"segment {position} separates its components with {other.group(1)!r}, not the {component!r} "
                "ISA16 declares: read with it"
            )
        return value.split(other.group(1))


def patient_id(insured: Insured | None) -> str | None:
    if insured is None:
        return None
    if insured.patient is not None and insured.patient.id:
        return insured.patient.id
    subscriber = insured.subscriber.id if insured.subscriber is not None else None
    if insured.level == "22" or insured.patient is None or subscriber is None:
        return subscriber
    name = insured.patient.nm1
    person = "|".join([element(name, 3) or "", element(name, 4) or "", element(insured.patient.demographics, 2) or ""])
    return f"{subscriber}-{hashlib.sha256(person.upper().encode()).hexdigest()[:10]}"


def payer_id(insured: Insured | None) -> str | None:
    payer = insured.payer if insured is not None else None
    if payer is None:
        return None
    if payer.id:
        return payer.id
    name = element(payer.nm1, 3)
    return "name:" + re.sub(r"[^0-9A-Z]+", "-", name.upper()).strip("-") if name else None


class ClaimFile:
    """The claim sets of a document, with what every dataset shares."""

    def __init__(self, document: Document) -> None:
        self.sets: list[ClaimSet] = claim_sets(document)
        self.warnings = list(document.warnings)
        self.composites = Composites(self.warnings)
        for claim in self.claims():
            self._check_total(claim)

    def claims(self) -> list[Claim]:
        return [claim for found in self.sets for claim in found.claims]

    def _check_total(self, claim: Claim) -> None:
        total = amount(element(claim.clm, 2))
        lines = [amount(element(line.sv1, 2)) if line.sv1 else None for line in claim.lines]
        if total is None or not lines or any(v is None for v in lines):
            return
        billed = sum((v for v in lines if v is not None), Decimal(0))
        if billed != total:
            self.warnings.append(
                f"claim at segment {claim.position}: CLM02 {money(total)} is not the sum of its lines' charges "
                f"{money(billed)}"
            )

    def rendering(self, claim: Claim) -> str | None:
        return claim.rendering or claim.billing_provider

    def place_of_service(self, claim: Claim) -> list[str]:
        return self.composites.split(element(claim.clm, 5), claim.component, claim.position)


def claim_rows(found: ClaimFile, columns: Collection[str] | None) -> DatasetRows:
    rows = DatasetRows(CLAIMS, columns)
    for claim in found.claims():
        place = found.place_of_service(claim)
        rows.add(
            claim.position,
            {
                "claim_id": element(claim.clm, 1),
                "encounter_id": element(claim.clm, 1),
                "patient_id": patient_id(claim.insured),
                "payer_id": payer_id(claim.insured),
                "provider_id": claim.billing_provider,
                "submitted_at": timestamp_text(claim.created_on, claim.created_at),
                "billed_amount": money_text(element(claim.clm, 2)),
                "claim_status": "void" if element(place, 2) == "8" else "submitted",
            },
        )
    return rows


def charge_rows(found: ClaimFile, columns: Collection[str] | None) -> DatasetRows:
    rows = DatasetRows(CHARGES, columns)
    for claim in found.claims():
        for line in claim.lines:
            if line.sv1 is None:
                rows.bad(line.position, f"service line at segment {line.position} has no SV1", NO_SERVICE)
                continue
            procedure = found.composites.split(element(line.sv1, 1), claim.component, line.sv1_position)
            rows.add(
                line.position,
                {
                    "charge_id": f"{element(claim.clm, 1) or ''}:{line.number or ''}",
                    "encounter_id": element(claim.clm, 1),
                    "patient_id": patient_id(claim.insured),
                    "provider_id": line.rendering or found.rendering(claim),
                    "procedure_code": element(procedure, 1) if len(procedure) > 1 else element(procedure, 0),
                    "modifier": element(procedure, 2),
                    "units": whole_text(element(line.sv1, 4)),
                    "amount": money_text(element(line.sv1, 2)),
                    "service_date": date_text(line.service_date or claim.service_date),
                    "posted_date": date_text(claim.created_on),
                },
            )
    return rows


def encounter_rows(found: ClaimFile, columns: Collection[str] | None) -> DatasetRows:
    rows = DatasetRows(ENCOUNTERS, columns)
    left_out = 0
    for claim in found.claims():
        codes: dict[str, list[str]] = {qualifier: [] for qualifier in ICD10}
        for composite in claim.diagnoses:
            parts = found.composites.split(composite, claim.component, claim.position)
            if len(parts) > 1 and parts[0] in codes and parts[1]:
                codes[parts[0]].append(parts[1])
            elif parts and parts[0] in ICD9:
                left_out += 1
        days = [d for d in (date_text(line.service_date) for line in claim.lines) if d]
        rows.add(
            claim.position,
            {
                "encounter_id": element(claim.clm, 1),
                "patient_id": patient_id(claim.insured),
                "provider_id": found.rendering(claim),
                "location_id": claim.facility,
                "encounter_date": min(days) if days else date_text(claim.service_date),
                "place_of_service": element(found.place_of_service(claim), 0),
                "diagnosis_codes": "|".join(codes["ABK"] + codes["ABF"]) or None,
            },
        )
    if left_out:
        found.warnings.append(
            f"{left_out} ICD-9-CM diagnosis code(s) (HI qualifier BK/BF) left out: the column is ICD-10"
        )
    return rows


def _address(party: Party) -> str | None:
    street = [part for part in party.street[1:3] if part]
    return ", ".join(street) or None


def patient_rows(found: ClaimFile, columns: Collection[str] | None) -> DatasetRows:
    rows = DatasetRows(PATIENTS, columns)
    for claim_set in found.sets:
        for insured in claim_set.insured:
            if not insured.claims:
                continue
            person = insured.patient if insured.level == "23" else insured.subscriber
            if person is None:
                rows.bad(insured.position, f"patient loop at segment {insured.position} names no patient", "no_patient")
                continue
            member = person.id or (insured.subscriber.id if insured.subscriber else None)
            rows.add(
                insured.position,
                {
                    "patient_id": patient_id(insured),
                    "first_name": element(person.nm1, 4),
                    "last_name": element(person.nm1, 3),
                    "date_of_birth": date_text(element(person.demographics, 2)),
                    "sex": SEXES.get(element(person.demographics, 3) or "", element(person.demographics, 3)),
                    "address_line": _address(person),
                    "city": element(person.place, 1),
                    "postal_code": element(person.place, 3),
                    "member_number": member,
                    "primary_payer_id": payer_id(insured) if insured.responsibility == "P" else None,
                },
            )
    return rows


BUILDERS = {CLAIMS: claim_rows, CHARGES: charge_rows, ENCOUNTERS: encounter_rows, PATIENTS: patient_rows}


class ProfessionalClaims(TransactionSetFormat):
    name = "x12-837p"
    description = "X12 837P professional claims, 5010 and 4010"
    datasets = (CLAIMS, CHARGES, ENCOUNTERS, PATIENTS)

    def problem(self, transaction: Transaction) -> str | None:
        if transaction.code != "837":
            return f"is a {cited(transaction.code, 6)} transaction set, not an 837 claim"
        implementation = transaction.implementation
        if implementation.startswith(PROFESSIONAL):
            return None
        other = OTHER_837.get(implementation[:10])
        if other is not None:
            return f"is {other}, not an 837P professional claim"
        if not implementation:
            return "names no implementation (ST03 or GS08): an 837P cannot be told from an 837I or 837D"
        return f"is the 837 implementation {cited(implementation, 20)}, not 005010X222 or 004010X098 (837P)"

    def fed(self, document: Document) -> tuple[tuple[str, ...], list[str]]:
        found = ClaimFile(document)
        datasets = (CLAIMS, CHARGES, ENCOUNTERS, PATIENTS) if found.claims() else (CLAIMS,)
        return datasets, found.warnings

    def rows(self, document: Document, dataset: str, columns: Collection[str] | None) -> ParsedFile:
        found = ClaimFile(document)
        built = BUILDERS[dataset](found, columns)
        return built.parsed(found.warnings)


FORMAT = ProfessionalClaims()
