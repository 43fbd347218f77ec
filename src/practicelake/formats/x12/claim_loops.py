"""The loops of an 837P transaction set (005010X222A1; 004010X098A1 has the same ones), read
into what the claim datasets are made of.

- BHT (BHT04 date and BHT05 time the transaction was created).
- HL*20 (loop 2000A billing provider): NM1*85, its NM109.
- HL*22 (loop 2000B subscriber): SBR (SBR01 payer responsibility P/S/T), NM1*IL (2010BA: the
  subscriber, NM109 the member id) with its N3, N4, DMG; NM1*PR (2010BB: the payer billed).
- HL*23 (loop 2000C patient, when the patient is not the subscriber): PAT, NM1*QC with its N3,
  N4, DMG.
- CLM (loop 2300) under the HL of its patient: HI (diagnoses), NM1*82 (2310B rendering
  provider), NM1*77 (2310C service facility); an SBR in the claim opens loop 2320 (other
  subscriber), whose NM1s are another payer's and are not the claim's.
- LX (loop 2400 service line): SV1 (procedure composite, charge, unit, quantity, place, the
  diagnosis pointers SV107), DTP*472 (service date), NM1*82 (2420A rendering provider).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from practicelake.formats.x12.elements import element
from practicelake.formats.x12.segments import Document, Transaction


@dataclass
class Party:
    """An NM1 entity and the N3/N4/DMG/REF that follow it."""

    position: int
    nm1: list[str]
    street: list[str] = field(default_factory=list)
    place: list[str] = field(default_factory=list)
    demographics: list[str] = field(default_factory=list)

    @property
    def id(self) -> str | None:
        return element(self.nm1, 9)


@dataclass
class Insured:
    """The HL of a patient (2000B when the subscriber is the patient, else 2000C)."""

    position: int
    level: str  # HL03: 22 or 23
    responsibility: str | None = None  # SBR01 of the subscriber loop
    subscriber: Party | None = None
    payer: Party | None = None
    patient: Party | None = None  # NM1*QC, loop 2010CA
    claims: int = 0


@dataclass
class ServiceLine:
    position: int  # the LX segment
    number: str | None
    sv1: list[str] | None = None
    sv1_position: int = 0
    service_date: str | None = None
    rendering: str | None = None


@dataclass
class Claim:
    position: int  # the CLM segment
    clm: list[str]
    insured: Insured | None
    billing_provider: str | None
    created_on: str | None
    created_at: str | None
    component: str
    diagnoses: list[str] = field(default_factory=list)  # HI composites, in order
    rendering: str | None = None
    facility: str | None = None
    service_date: str | None = None  # a claim-level DTP*472
    lines: list[ServiceLine] = field(default_factory=list)


@dataclass
class ClaimSet:
    claims: list[Claim] = field(default_factory=list)
    insured: list[Insured] = field(default_factory=list)


def claim_sets(document: Document) -> list[ClaimSet]:
    return [_claim_set(document.segments, t) for t in document.transactions]


def _claim_set(segments: list[list[str]], transaction: Transaction) -> ClaimSet:
    found = ClaimSet()
    created_on = created_at = billing = None
    insured: Insured | None = None
    subscriber_loop: Insured | None = None
    party: Party | None = None
    claim: Claim | None = None
    line: ServiceLine | None = None
    other_subscriber = False
    for index in range(transaction.start + 1, transaction.end):
        elements = segments[index]
        tag, position = elements[0], index + 1
        if tag == "NM1":
            party = Party(position, elements)
            code = element(elements, 1)
            if claim is None:
                if code == "85":
                    billing = party.id
                elif insured is not None and code == "IL":
                    insured.subscriber = party
                elif insured is not None and code == "PR":
                    insured.payer = party
                elif insured is not None and code == "QC":
                    insured.patient = party
            elif code == "82" and not other_subscriber:
                if line is not None:
                    line.rendering = party.id
                else:
                    claim.rendering = party.id
            elif code == "77" and not other_subscriber and line is None:
                claim.facility = party.id
        elif tag in ("N3", "N4", "DMG") and party is not None:
            target = {"N3": party.street, "N4": party.place, "DMG": party.demographics}[tag]
            target[:] = elements
        elif tag == "SV1" and line is not None:
            line.sv1, line.sv1_position = elements, position
        elif tag == "DTP" and element(elements, 1) == "472":
            if line is not None:
                line.service_date = element(elements, 3)
            elif claim is not None:
                claim.service_date = element(elements, 3)
        elif tag == "LX" and claim is not None:
            line = ServiceLine(position, element(elements, 1))
            claim.lines.append(line)
            other_subscriber = False
        elif tag == "HI" and claim is not None and line is None:
            claim.diagnoses.extend(e for e in elements[1:] if e)
        elif tag == "SBR":
            if claim is not None:
                other_subscriber = True
            elif insured is not None:
                insured.responsibility = element(elements, 1)
        elif tag == "CLM":
            if insured is not None:
                insured.claims += 1
            component = transaction.delimiters.component
            claim = Claim(position, elements, insured, billing, created_on, created_at, component)
            line, party, other_subscriber = None, None, False
            found.claims.append(claim)
        elif tag == "HL":
            claim, line, party, other_subscriber = None, None, None, False
            level = element(elements, 3)
            if level == "22":
                insured = subscriber_loop = Insured(position, "22")
                found.insured.append(insured)
            elif level == "23":
                insured = Insured(position, "23")
                if subscriber_loop is not None:
                    insured.responsibility = subscriber_loop.responsibility
                    insured.subscriber, insured.payer = subscriber_loop.subscriber, subscriber_loop.payer
                found.insured.append(insured)
            else:
                insured = subscriber_loop = None
        elif tag == "BHT":
            created_on, created_at = element(elements, 4), element(elements, 5)
    return found
