"""The generated practice's claims as X12 837P (005010X222A1) and its payers' decisions as 835
remittances (005010X221A1), `*` between elements, `:` between components, `~` ending segments
(with a line break after each, as clearinghouses write them).

837P: one transaction set per submission day (BHT04/BHT05 the day and the latest submission
time of the day's claims), a billing provider HL*20 per provider (NM1*85), one subscriber HL*22
per claim (the patient is the subscriber: SBR02 18; NM1*IL NM109 the member number, else the
medical record number), its payer (NM1*PR), the claim (CLM01 the claim id; REF*EA the medical
record number), HI (ABK, ABF), NM1*82 (rendering provider), NM1*77 (the visit's location) and
one LX/SV1/DTP*472/REF*6R per charge of the visit.

835: a remitted claim is one with a payer payment or an adjustment. One transaction set per payer
and payment day (BPR02 the day's total, BPR04 ACH or CHK, BPR16 the day; TRN02 the payment's
trace), one file per day. CLP02 is 1 (processed as primary) when the payer paid, else 4
(denied); CLP05 the PR adjustments; NM1*QC NM109 the member number, as the 837's NM1*IL.
Adjustments of a charge go on its SVC line (REF*6R), the others on the claim. An 835 balances
(TR3 1.10.2.1): where the generated amounts do not add up (payments and adjustments still to
come), the rest is a claim-level CAS*OA*23 so that the charge is the payment plus every
adjustment.

Provider and location ids are the practice's own (PRV..., LOC...), written where an NPI goes
(NM1 qualifier XX): the readers take NM109 as written.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from format_writers import Export, Row

CLAIMS_PER_TRANSACTION = 5_000


def x12(value: str | None) -> str:
    """An element value with the delimiters taken out (X12 has no escape)."""
    return (value or "").replace("*", " ").replace("~", " ").replace(":", " ").replace("^", " ")


def d8(text: str) -> str:
    return text[:10].replace("-", "")


# A US address has a state (N402); one elsewhere its country (N404), and no state (TR3 N4 notes).
STATES = {"America/New_York": "NY", "America/Chicago": "IL"}


def n4(export: Export, city: str, postal_code: str) -> str:
    if export.country == "US":
        return f"N4*{x12(city)}*{STATES.get(str(export.time_zone), 'NY')}*{x12(postal_code)}"
    return f"N4*{x12(city)}**{x12(postal_code)}*{x12(export.country)}"


def interchange(kind: str, implementation: str, control: int, date: str, sets: list[list[str]]) -> str:
    """ISA ... IEA around `sets` (each the segments between ST and SE, ST and SE not included)."""
    code = "HP" if kind == "835" else "HC"
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{'PRACTICELAKE':<15}*ZZ*{'CLEARINGHOUSE':<15}*{date[2:]}*1200*^*00501*"
        f"{control:09d}*0*P*:"
    )
    out = [isa, f"GS*{code}*PRACTICELAKE*CLEARINGHOUSE*{date}*1200*{control}*X*{implementation}"]
    for number, body in enumerate(sets, 1):
        st = f"ST*{kind}*{number:04d}" + (f"*{implementation}" if kind == "837" else "")  # 835 ST03: not used
        out += [st, *body, f"SE*{len(body) + 2}*{number:04d}"]
    out += [f"GE*{len(sets)}*{control}", f"IEA*1*{control:09d}"]
    return "~\n".join(out) + "~\n"


# 837P -----------------------------------------------------------------------------------------


def claim_loop(
    export: Export,
    hl: int,
    parent: int,
    claim: Row,
    payer_name: str,
    patient: Row | None,
    visit: Row | None,
    lines: list[Row],
) -> list[str]:
    member = (patient or {}).get("member_number") or claim["patient_id"]
    out = [f"HL*{hl}*{parent}*22*0", "SBR*P*18*******CI"]
    if patient is not None:
        out.append(f"NM1*IL*1*{x12(patient['last_name'])}*{x12(patient['first_name'])}****MI*{x12(member)}")
        out.append(f"N3*{x12(patient['address_line'])}")
        out.append(n4(export, patient["city"], patient["postal_code"]))
        sex = patient["sex"][:1].upper()
        out.append(f"DMG*D8*{d8(patient['date_of_birth'])}*{sex if sex in 'MFU' else 'U'}")
    else:
        out.append(f"NM1*IL*1*******MI*{x12(member)}")
    out.append(f"NM1*PR*2*{x12(payer_name)}*****PI*{x12(claim['payer_id'])}")
    place = (visit or {}).get("place_of_service") or "11"
    out.append(f"CLM*{x12(claim['claim_id'])}*{claim['billed_amount']}***{place}:B:1*Y*A*Y*Y")
    out.append(f"REF*EA*{x12(claim['patient_id'])}")
    codes = [c.replace(".", "") for c in ((visit or {}).get("diagnosis_codes") or "").split("|") if c]
    if codes:
        out.append("HI*" + "*".join(f"{'ABK' if i == 0 else 'ABF'}:{c}" for i, c in enumerate(codes[:12])))
    out.append(f"NM1*82*1*{x12(claim['provider_id'])}*****XX*{x12(claim['provider_id'])}")
    if visit is not None and visit["location_id"]:
        out.append(f"NM1*77*2*{x12(visit['location_id'])}*****XX*{x12(visit['location_id'])}")
        out += ["N3*1 PRACTICE WAY", n4(export, "CITY", "10016")]
    for number, line in enumerate(lines, 1):
        procedure = f"HC:{x12(line['procedure_code'])}" + (f":{x12(line['modifier'])}" if line["modifier"] else "")
        out.append(f"LX*{number}")
        out.append(f"SV1*{procedure}*{line['amount']}*UN*{line['units']}***1")
        out.append(f"DTP*472*D8*{d8(line['service_date'])}")
        out.append(f"REF*6R*{x12(line['charge_id'])}")
        if line["provider_id"] != claim["provider_id"]:
            out.append(f"NM1*82*1*{x12(line['provider_id'])}*****XX*{x12(line['provider_id'])}")
    return out


def write_837p(export: Export, out: Path) -> list[Path]:
    """One file per month, one transaction set per submission day."""
    out.mkdir(parents=True, exist_ok=True)
    patients = {p["patient_id"]: p for p in export.records["patients"]}
    visits = {e["encounter_id"]: e for e in export.records["encounters"]}
    charges = export.by("charges", "encounter_id")
    days: dict[str, list[Row]] = defaultdict(list)
    for claim in export.records["claims"]:
        days[claim["submitted_at"][:10]].append(claim)
    months: dict[str, list[list[str]]] = defaultdict(list)
    for day, claims in sorted(days.items()):
        latest = max(c["submitted_at"] for c in claims)
        body = [f"BHT*0019*00*{d8(day)}*{d8(day)}*{latest[11:19].replace(':', '')}*CH"]
        body += [f"NM1*41*2*{x12(export.name)}*****46*{export.practice_id}", "PER*IC*BILLING OFFICE*TE*5555550100"]
        body += ["NM1*40*2*CLEARINGHOUSE*****46*CLEARINGHOUSE"]
        hl = 0
        by_provider: dict[str, list[Row]] = defaultdict(list)
        for claim in claims:
            by_provider[claim["provider_id"]].append(claim)
        for provider, billed in sorted(by_provider.items()):
            hl += 1
            parent = hl
            body += [f"HL*{hl}**20*1", f"NM1*85*2*{x12(provider)}*****XX*{x12(provider)}", "N3*1 PRACTICE WAY"]
            body += [n4(export, "CITY", "10016"), f"REF*EI*{export.practice_id}"]
            for claim in billed:
                hl += 1
                body += claim_loop(
                    export, hl, parent, claim, export.payer_name(claim["payer_id"]), patients.get(claim["patient_id"]),
                    visits.get(claim["encounter_id"]),
                    charges.get(claim["encounter_id"], []),
                )  # fmt: skip
        months[day[:7]].append(body)
    files = []
    for number, (month, sets) in enumerate(sorted(months.items()), 1):
        path = out / f"claims_{month}.837"
        path.write_text(
            interchange("837", "005010X222A1", number, d8(month + "-01"), sets), encoding="ascii", errors="replace"
        )
        files.append(path)
    return files


# 835 ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    charge_id: str
    code: str
    modifier: str
    units: str
    charge: Decimal
    service_date: str
    adjustments: tuple[tuple[str, str, Decimal], ...]  # group, reason, amount


@dataclass(frozen=True)
class Remitted:
    """A claim as its payer's remittance tells it."""

    claim_id: str
    payer_id: str
    member_id: str  # the patient's member number (NM1*QC NM109, MI), else the medical record number
    last_name: str
    first_name: str
    billed: Decimal
    paid: Decimal
    paid_on: str  # YYYY-MM-DD
    method: str  # ACH or CHK
    adjustments: tuple[tuple[str, str, Decimal], ...]
    lines: tuple[Line, ...]

    def copy(self, suffix: str) -> Remitted:
        """The same claim under other ids (a bigger practice's remittances)."""
        lines = tuple(replace(line, charge_id=line.charge_id + suffix) for line in self.lines)
        return replace(self, claim_id=self.claim_id + suffix, lines=lines)


def remitted_claims(export: Export) -> list[Remitted]:
    patients = {p["patient_id"]: p for p in export.records["patients"]}
    charges = export.by("charges", "encounter_id")
    payments = export.by("payments", "claim_id")
    adjustments = export.by("adjustments", "claim_id")
    found = []
    for claim in export.records["claims"]:
        paid_rows = [p for p in payments.get(claim["claim_id"], []) if p["payment_source"].lower() != "patient"]
        adjusted = adjustments.get(claim["claim_id"], [])
        if not paid_rows and not adjusted:
            continue  # not decided yet: no remittance tells of it
        on_line: dict[str, list[tuple[str, str, Decimal]]] = defaultdict(list)
        on_claim: list[tuple[str, str, Decimal]] = []
        for a in adjusted:
            entry = (a["group_code"].upper(), a["carc_code"], Decimal(a["amount"]))
            (on_line[a["charge_id"]] if a["charge_id"] else on_claim).append(entry)
        lines = tuple(
            Line(c["charge_id"], c["procedure_code"], c["modifier"], c["units"], Decimal(c["amount"]),
                 c["service_date"], tuple(on_line.pop(c["charge_id"], [])))
            for c in charges.get(claim["encounter_id"], [])
        )  # fmt: skip
        on_claim += [entry for entries in on_line.values() for entry in entries]  # a charge not on the claim
        paid = sum((Decimal(p["amount"]) for p in paid_rows), Decimal(0))
        rest = Decimal(claim["billed_amount"]) - paid - sum((Decimal(a["amount"]) for a in adjusted), Decimal(0))
        if rest:
            on_claim.append(("OA", "23", rest))
        dates = [p["paid_at"][:10] for p in paid_rows] or [a["adjusted_on"] for a in adjusted]
        method = "CHK" if any(p["method"].lower() in ("cheque", "check") for p in paid_rows) else "ACH"
        patient = patients.get(claim["patient_id"], {})
        found.append(
            Remitted(
                claim["claim_id"], claim["payer_id"], patient.get("member_number") or claim["patient_id"],
                patient.get("last_name", ""),
                patient.get("first_name", ""), Decimal(claim["billed_amount"]), paid, max(dates), method,
                tuple(on_claim), lines,
            )
        )  # fmt: skip
    return found


def year_of_claims(base: list[Remitted], count: int, year: int = 2025) -> list[Remitted]:
    """`count` claims over one year, copies of `base` with other ids and their day moved into `year`."""
    out = []
    for i in range(count):
        claim = base[i % len(base)].copy(f"-{i // len(base)}")
        day = datetime.date.fromisoformat(claim.paid_on)
        try:
            moved = day.replace(year=year)
        except ValueError:  # 29 February
            moved = day.replace(year=year, day=28)
        out.append(replace(claim, paid_on=moved.isoformat()))
    return out


def cas(group_of: Iterable[tuple[str, str, Decimal]]) -> list[str]:
    """CAS segments, one per group, at most six reason/amount pairs each."""
    grouped: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for group, reason, value in group_of:
        grouped[group].append((reason, value))
    out = []
    for group, pairs in grouped.items():
        for start in range(0, len(pairs), 6):
            elements = [text for reason, value in pairs[start : start + 6] for text in (reason, str(value), "")]
            out.append("*".join(("CAS", group, *elements)).rstrip("*"))
    return out


def claim_payment(claim: Remitted) -> list[str]:
    every = list(claim.adjustments) + [a for line in claim.lines for a in line.adjustments]
    patient_share = sum((a[2] for a in every if a[0] == "PR"), Decimal(0))
    status = "1" if claim.paid else "4"
    out = [
        f"CLP*{x12(claim.claim_id)}*{status}*{claim.billed}*{claim.paid}*{patient_share}*12*PCN{x12(claim.claim_id)}*11*1"
    ]
    out += cas(claim.adjustments)
    out.append(f"NM1*QC*1*{x12(claim.last_name)}*{x12(claim.first_name)}****MI*{x12(claim.member_id)}")
    if claim.lines:
        out.append(f"DTM*232*{d8(min(line.service_date for line in claim.lines))}")
    for line in claim.lines:
        procedure = f"HC:{x12(line.code)}" + (f":{x12(line.modifier)}" if line.modifier else "")
        line_paid = line.charge - sum((a[2] for a in line.adjustments), Decimal(0))
        out.append(f"SVC*{procedure}*{line.charge}*{line_paid}**{line.units}")
        out.append(f"DTM*472*{d8(line.service_date)}")
        out += cas(line.adjustments)
        out.append(f"REF*6R*{x12(line.charge_id)}")
    return out


def remittance(export: Export, payer: str, day: str, claims: list[Remitted], part: int) -> list[str]:
    total = sum((c.paid for c in claims), Decimal(0))
    method = "CHK" if claims[0].method == "CHK" else "ACH"
    trace = f"{'CHK' if method == 'CHK' else 'EFT'}{x12(payer)}{d8(day)}{part:02d}"
    body = [
        f"BPR*I*{total}*C*{method}*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*{d8(day)}",
        f"TRN*1*{trace}*1512345678",
        f"DTM*405*{d8(day)}",
        f"N1*PR*{x12(export.payer_name(payer))}*XV*{x12(payer)}",
        "N3*1 PAYER PLAZA",
        n4(export, "CITY", "10016"),
        "PER*BL*TECHNICAL SUPPORT*TE*5555550199",
        f"N1*PE*{x12(export.name)}*XX*{export.practice_id}",
        "LX*1",
    ]
    for claim in claims:
        body += claim_payment(claim)
    return body


def write_835(export: Export, claims: list[Remitted], out: Path) -> list[Path]:
    """One file per payment day, a transaction set per payer (CLAIMS_PER_TRANSACTION claims at most)."""
    out.mkdir(parents=True, exist_ok=True)
    days: dict[str, dict[str, list[Remitted]]] = defaultdict(lambda: defaultdict(list))
    for claim in claims:
        days[claim.paid_on][claim.payer_id].append(claim)
    files = []
    for number, (day, payers) in enumerate(sorted(days.items()), 1):
        sets = []
        for payer, paid in sorted(payers.items()):
            for start in range(0, len(paid), CLAIMS_PER_TRANSACTION):
                sets.append(remittance(export, payer, day, paid[start : start + CLAIMS_PER_TRANSACTION], start + 1))
        path = out / f"remit_{d8(day)}.835"
        path.write_text(interchange("835", "005010X221A1", number, d8(day), sets), encoding="ascii", errors="replace")
        files.append(path)
    return files
