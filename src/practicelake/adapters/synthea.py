"""A Synthea CSV export (synthetichealth/synthea, v3 schema) as the exports of one practice.

`convert` writes `<out>/<practice_id>/<YYYY-MM>/<dataset>.csv`, one batch named after the
month of the latest encounter. Synthea has no practice-management system behind it, so:

- Practice: every Synthea organisation is a location of one practice. Timestamps are UTC in
  Synthea and written as wall time of `time_zone` (Synthea's default state, Massachusetts,
  is America/New_York); dates are that zone's dates. Currency USD.
- Providers: Synthea has no FTE; each provider is written as 1.0.
- Payers: OWNERSHIP GOVERNMENT -> government, PRIVATE -> insurer, NO_INSURANCE -> self_pay.
- Patients: primary payer and member number from the latest payer transition; no
  registration date (Synthea has none).
- Appointments: Synthea records only visits that happened. Encounters of class ambulatory,
  outpatient, wellness and virtual are fulfilled appointments, with no booking time (Synthea
  has none, so lead time stays empty rather than 0); 'new' when the patient had no
  encounter in the 3 years before (CPT's rule, within the export). Emergency, urgentcare,
  inpatient, snf, hospice and home encounters are walk-ins or admissions: encounters
  without an appointment.
- Encounters: all of them; place of service from the class. Diagnoses are dropped: Synthea
  codes them in SNOMED CT, the contract takes ICD-10.
- Charges: every CHARGE line; service date its FROMDATE, posted when its claim was billed
  (LASTBILLEDDATE1). Synthea codes lines in SNOMED CT, CVX or RxNorm, none of which the
  contract's CPT/HCPCS/tariff pattern accepts: procedure_code is UNCODED.
- Claims: every claim, billed to its primary payer (the encounter's payer when Synthea leaves
  it empty, as for the uninsured), submitted at LASTBILLEDDATE1. Synthea has no denials:
  BILLED -> submitted; CLOSED -> decided when billed, paid when payers paid the whole bill,
  else partially_paid (the patient paid the rest).
- Payments: every PAYMENT. ECHECK is a payer's (the secondary payer's after a TRANSFERIN of
  type 2 on the same line), any other method the patient's. A COPAY is paid at the visit
  (its FROMDATE), every other payment when its claim was billed to the payer or patient.
- Adjustments: ADJUSTMENT lines (Synthea's payer adjustment, a contracted-rate write-down)
  -> CO-45 on their charge line. TRANSFERIN/TRANSFEROUT only move a balance between payers
  and the patient, with no reason given: not written (they tell who paid).
- Not mapped: clinical files (allergies, careplans, conditions, devices, imaging_studies,
  immunizations, medications, observations, procedures, supplies); no provider schedules.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from practicelake.contracts import BY_DATASET

Row = dict[str, str]

UNCODED = "0000"  # no CPT/HCPCS code: what the line was is not known in the contract's code systems
BOOKED_CLASSES = frozenset({"ambulatory", "outpatient", "wellness", "virtual"})
# CMS place-of-service codes by Synthea encounter class.
PLACE_OF_SERVICE = {
    "ambulatory": "11",
    "wellness": "11",
    "outpatient": "22",
    "virtual": "02",
    "urgentcare": "20",
    "emergency": "23",
    "inpatient": "21",
    "snf": "31",
    "hospice": "34",
    "home": "12",
}
PAYER_TYPE = {"GOVERNMENT": "government", "PRIVATE": "insurer", "NO_INSURANCE": "self_pay"}
PAYMENT_METHOD = {"ECHECK": "eft", "CASH": "cash", "CHECK": "check", "CC": "card"}  # COPAY: not said
NEW_PATIENT_GAP = timedelta(days=3 * 365)  # CPT: new when not seen within the past three years
DATASETS = (
    "practices",
    "locations",
    "providers",
    "payers",
    "patients",
    "appointments",
    "encounters",
    "charges",
    "claims",
    "payments",
    "adjustments",
)


class Clock:
    """Synthea's UTC timestamps as the practice's wall time and dates."""

    def __init__(self, time_zone: str) -> None:
        self.zone = ZoneInfo(time_zone)

    def local(self, stamp: str) -> datetime:
        return datetime.fromisoformat(stamp).astimezone(self.zone)

    def timestamp(self, stamp: str) -> str:
        return self.local(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else ""

    def date(self, stamp: str) -> str:
        return self.local(stamp).date().isoformat() if stamp else ""


def read(source: Path, name: str) -> list[Row]:
    with (source / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def convert(
    source: Path, out: Path, practice_id: str, *, time_zone: str = "America/New_York", name: str = "Synthea"
) -> list[Path]:
    """Write the Synthea CSV folder `source` as one batch of exports of `practice_id`."""
    clock = Clock(time_zone)
    encounters = read(source, "encounters")
    rows: dict[str, list[Row]] = {
        "practices": [{"name": name, "time_zone": time_zone, "currency": "USD", "country": "US"}],
        "locations": [
            {"location_id": o["Id"], "name": o["NAME"], "postal_code": o["ZIP"]} for o in read(source, "organizations")
        ],
        "providers": [
            {"provider_id": p["Id"], "display_name": p["NAME"], "specialty": p["SPECIALITY"], "fte": ""}
            for p in read(source, "providers")
        ],
        "payers": [
            {"payer_id": p["Id"], "name": p["NAME"], "payer_type": PAYER_TYPE.get(p["OWNERSHIP"], p["OWNERSHIP"])}
            for p in read(source, "payers")
        ],
        "patients": patients(read(source, "patients"), read(source, "payer_transitions")),
        "appointments": appointments(encounters, clock),
        "encounters": [encounter(e, clock) for e in encounters],
    }
    rows |= billing(read(source, "claims"), read(source, "claims_transactions"), encounters, clock)
    batch = max(clock.local(e["START"]) for e in encounters).strftime("%Y-%m")
    folder = out / practice_id / batch
    folder.mkdir(parents=True, exist_ok=True)
    return [write(folder / f"{dataset}.csv", dataset, practice_id, rows[dataset]) for dataset in DATASETS]


def write(path: Path, dataset: str, practice_id: str, rows: Iterable[Row]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        # Columns a row leaves out are written empty; a column the contract lacks is an error.
        writer = csv.DictWriter(handle, fieldnames=BY_DATASET[dataset].column_names, lineterminator="\n")
        writer.writeheader()
        writer.writerows({"practice_id": practice_id} | row for row in rows)
    return path


def patients(people: list[Row], transitions: list[Row]) -> list[Row]:
    latest: dict[str, Row] = {}
    for t in sorted(transitions, key=lambda t: t["START_DATE"]):
        latest[t["PATIENT"]] = t
    return [
        {
            "patient_id": p["Id"],
            "first_name": p["FIRST"],
            "last_name": p["LAST"],
            "date_of_birth": p["BIRTHDATE"],
            "sex": p["GENDER"],
            "address_line": p["ADDRESS"],
            "city": p["CITY"],
            "postal_code": p["ZIP"],
            "member_number": latest.get(p["Id"], {}).get("MEMBERID", ""),
            "primary_payer_id": latest.get(p["Id"], {}).get("PAYER", ""),
        }
        for p in people
    ]


def appointments(encounters: list[Row], clock: Clock) -> list[Row]:
    rows = []
    last_seen: dict[str, datetime] = {}
    for e in sorted(encounters, key=lambda e: e["START"]):
        start, stop = clock.local(e["START"]), clock.local(e["STOP"])
        previous = last_seen.get(e["PATIENT"])
        last_seen[e["PATIENT"]] = start
        if e["ENCOUNTERCLASS"] not in BOOKED_CLASSES:
            continue
        new = previous is None or start - previous > NEW_PATIENT_GAP
        rows.append(
            {
                "appointment_id": e["Id"],
                "patient_id": e["PATIENT"],
                "provider_id": e["PROVIDER"],
                "location_id": e["ORGANIZATION"],
                "booked_at": "",  # Synthea does not know when a visit was booked
                "start_at": clock.timestamp(e["START"]),
                "duration_minutes": str(round((stop - start).total_seconds() / 60)),
                "appointment_type": "new" if new else "follow-up",
                "status": "fulfilled",
                "visit_start_at": clock.timestamp(e["START"]),
                "visit_end_at": clock.timestamp(e["STOP"]),
            }
        )
    return rows


def encounter(e: Row, clock: Clock) -> Row:
    return {
        "encounter_id": e["Id"],
        "appointment_id": e["Id"] if e["ENCOUNTERCLASS"] in BOOKED_CLASSES else "",
        "patient_id": e["PATIENT"],
        "provider_id": e["PROVIDER"],
        "location_id": e["ORGANIZATION"],
        "encounter_date": clock.date(e["START"]),
        "place_of_service": PLACE_OF_SERVICE.get(e["ENCOUNTERCLASS"], ""),
    }


def billing(claims: list[Row], transactions: list[Row], encounters: list[Row], clock: Clock) -> dict[str, list[Row]]:
    """Charges, claims, payments and adjustments from each claim's transactions, in the
    order Synthea wrote them (CHARGEID): each line's charge, then what settled it."""
    payer_of_visit = {e["Id"]: e["PAYER"] for e in encounters}
    of_claim: dict[str, list[Row]] = defaultdict(list)
    for t in transactions:
        of_claim[t["CLAIMID"]].append(t)
    out: dict[str, list[Row]] = {"charges": [], "claims": [], "payments": [], "adjustments": []}
    for claim in claims:
        primary = claim["PRIMARYPATIENTINSURANCEID"] or payer_of_visit.get(claim["APPOINTMENTID"], "")
        billed = paid_by_payers = Decimal("0.00")
        charge_id, secondary = "", False
        for t in sorted(of_claim[claim["Id"]], key=lambda t: int(t["CHARGEID"])):
            if t["TYPE"] == "CHARGE":
                charge_id, secondary = t["ID"], False
                billed += Decimal(t["AMOUNT"])
                out["charges"].append(charge(t, claim, clock))
            elif t["TYPE"] == "TRANSFERIN" and t["TRANSFERTYPE"] == "2":
                secondary = True
            elif t["TYPE"] == "PAYMENT":
                by_payer = t["METHOD"] == "ECHECK"
                if by_payer:
                    paid_by_payers += Decimal(t["PAYMENTS"])
                payer = (claim["SECONDARYPATIENTINSURANCEID"] if secondary else primary) if by_payer else ""
                out["payments"].append(payment(t, claim, payer, by_payer, secondary, clock))
            elif t["TYPE"] == "ADJUSTMENT":
                out["adjustments"].append(
                    {
                        "adjustment_id": t["ID"],
                        "claim_id": claim["Id"],
                        "charge_id": charge_id,
                        "payer_id": primary,
                        "group_code": "CO",
                        "carc_code": "45",
                        "amount": t["ADJUSTMENTS"],
                        "adjusted_on": clock.date(claim["LASTBILLEDDATE1"]),
                    }
                )
        out["claims"].append(claim_row(claim, primary, billed, paid_by_payers, clock))
    return out


def charge(t: Row, claim: Row, clock: Clock) -> Row:
    return {
        "charge_id": t["ID"],
        "encounter_id": t["APPOINTMENTID"],
        "patient_id": t["PATIENTID"],
        "provider_id": t["PROVIDERID"],
        "procedure_code": UNCODED,
        "modifier": t["MODIFIER1"],
        "units": t["UNITS"],
        "amount": t["AMOUNT"],
        "service_date": clock.date(t["FROMDATE"]),
        "posted_date": clock.date(claim["LASTBILLEDDATE1"]),
    }


def payment(t: Row, claim: Row, payer: str, by_payer: bool, secondary: bool, clock: Clock) -> Row:
    copay = t["METHOD"] == "COPAY"
    billed_to = "LASTBILLEDDATE" + ("2" if secondary and by_payer else "1" if by_payer else "P")
    return {
        "payment_id": t["ID"],
        "claim_id": claim["Id"],
        "encounter_id": t["APPOINTMENTID"],
        "patient_id": t["PATIENTID"],
        "payer_id": payer,
        "payment_source": "payer" if by_payer else "patient",
        "paid_at": clock.timestamp(t["FROMDATE"] if copay else claim[billed_to] or claim["LASTBILLEDDATE1"]),
        "amount": t["PAYMENTS"],
        "method": PAYMENT_METHOD.get(t["METHOD"], ""),
        "at_point_of_service": "" if by_payer else str(copay).lower(),
    }


def claim_row(claim: Row, payer: str, billed: Decimal, paid_by_payers: Decimal, clock: Clock) -> Row:
    submitted = clock.timestamp(claim["LASTBILLEDDATE1"])
    closed = claim["STATUS1"] == "CLOSED"
    outcome = ("paid" if paid_by_payers >= billed else "partially_paid") if closed else ""
    return {
        "claim_id": claim["Id"],
        "encounter_id": claim["APPOINTMENTID"],
        "patient_id": claim["PATIENTID"],
        "payer_id": payer,
        "provider_id": claim["PROVIDERID"],
        "submitted_at": submitted,
        "billed_amount": str(billed),
        "claim_status": outcome or "submitted",
        "first_adjudicated_at": submitted if closed else "",
        "first_pass_outcome": outcome,
        "resubmissions": "0",
    }
