"""One generated practice's export written again in the real formats practicelake reads, so that
each format's parse and transform can be timed over the same records (bench/formats.py).

The records are the practice's CSVs (practicelake.synth) with each key's latest row (a later
monthly batch corrects an earlier one). Each writer writes what its format can say of them:
- HL7 v2 (`write_hl7`): SIU^S12 per appointment (SCH-25 filler status, table 0278), with an
  SIU^S15 at its cancellation time when it was cancelled; DFT^P03 per visit with one FT1 per
  charge; ADT^A04 per patient. Segments end with LF; several thousand messages a file.
- FHIR R4 NDJSON (`write_fhir`): Appointment, Encounter, Patient and Claim (its items the
  visit's charges) resources, one a line; instants carry the practice's offset at that time.
- X12 835 and 837P: format_writers_x12.py.
"""

from __future__ import annotations

import csv
import datetime
import json
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

KEYS = {
    "patients": "patient_id",
    "appointments": "appointment_id",
    "encounters": "encounter_id",
    "charges": "charge_id",
    "claims": "claim_id",
    "payments": "payment_id",
    "adjustments": "adjustment_id",
    "payers": "payer_id",
    "providers": "provider_id",
}
# How the generated exports spell appointment statuses (synth/coding.py VOCABULARIES), as FHIR
# appointment status: what HL7 and FHIR carry. A late cancellation is a cancellation.
APPOINTMENT_STATUS = {
    "scheduled": "booked",
    "confirmed": "booked",
    "booked": "booked",
    "completed": "fulfilled",
    "checked out": "fulfilled",
    "fulfilled": "fulfilled",
    "no show": "noshow",
    "dna": "noshow",
    "noshow": "noshow",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "late cancel": "cancelled",
}
MESSAGES_PER_FILE = 5_000
LINES_PER_FILE = 20_000
Row = dict[str, str]


@dataclass
class Export:
    practice_id: str
    time_zone: ZoneInfo
    name: str
    records: dict[str, list[Row]]
    country: str = "US"  # ISO 3166 code of the practice (its locale's region)

    def by(self, dataset: str, column: str) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = defaultdict(list)
        for row in self.records[dataset]:
            grouped[row[column]].append(row)
        return grouped

    def payer_name(self, payer_id: str) -> str:
        return next((p["name"] for p in self.records["payers"] if p["payer_id"] == payer_id), payer_id)

    def offset_time(self, text: str) -> str:
        """A CSV wall time (`YYYY-MM-DD HH:MM:SS`) as an instant with the practice's offset then."""
        moment = datetime.datetime.fromisoformat(text).replace(tzinfo=self.time_zone)
        return moment.isoformat(timespec="seconds")


def load_export(exports: Path, practice_id: str) -> Export:
    """The practice's records, each key's latest row (batches are read in month order)."""
    practice = tomllib.loads((exports / "practices.toml").read_text(encoding="utf-8"))["practices"][practice_id]
    records: dict[str, list[Row]] = {}
    for dataset, key in KEYS.items():
        latest: dict[str, Row] = {}
        for path in sorted((exports / practice_id).glob(f"*/{dataset}.csv")):
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    latest[row[key]] = row
        records[dataset] = list(latest.values())
    country = str(practice.get("locale", "en-US")).rpartition("-")[2] or "US"
    return Export(practice_id, ZoneInfo(practice["time_zone"]), practice["name"], records, country)


def chunks(items: list[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    for start in range(0, len(items), size):
        yield start // size + 1, items[start : start + size]


# HL7 v2 ---------------------------------------------------------------------------------------

HL7_ESCAPES = str.maketrans({"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"})
FILLER_STATUS = {  # FHIR appointment status -> HL7 table 0278
    "booked": "Booked",
    "fulfilled": "Complete",
    "noshow": "Noshow",
    "cancelled": "Cancelled",
    "arrived": "Started",
    "checked-in": "Started",
    "pending": "Pending",
    "waitlist": "Waitlist",
    "entered-in-error": "Deleted",
}
HL7_SEX = {"f": "F", "female": "F", "m": "M", "male": "M", "o": "O", "other": "O", "u": "U", "unknown": "U"}


def hl7(value: str | None) -> str:
    return (value or "").translate(HL7_ESCAPES)


def dtm(text: str | None) -> str:
    """A CSV date or wall time as an HL7 DTM without offset (the sender's wall time)."""
    return (text or "").replace("-", "").replace(" ", "").replace(":", "")


def segment(name: str, fields: dict[int, str]) -> str:
    values = [""] * max(fields)
    for number, value in fields.items():
        values[number - 1] = value
    return "|".join((name, *values))


def hl7_message(kind: str, time: str, control: str, segments: list[str]) -> str:
    header = f"MSH|^~\\&|PMS|CLINIC|PRACTICELAKE|LAKE|{time}||{kind}|{control}|P|2.5.1"
    return "\n".join((header, *segments)) + "\n"


def pid(patient_id: str, patient: Row | None = None) -> str:
    fields = {1: "1", 3: f"{hl7(patient_id)}^^^PMS^MR"}
    if patient is not None:
        fields |= {
            5: f"{hl7(patient['last_name'])}^{hl7(patient['first_name'])}",
            7: dtm(patient["date_of_birth"]),
            8: HL7_SEX.get(patient["sex"].lower(), ""),
            11: f"{hl7(patient['address_line'])}^^{hl7(patient['city'])}^^{hl7(patient['postal_code'])}",
        }
        telecom = [f"{hl7(patient['phone'])}^PRN^PH"] if patient["phone"] else []
        telecom += [f"^NET^Internet^{hl7(patient['email'])}"] if patient["email"] else []
        fields[13] = "~".join(telecom)
    return segment("PID", fields)


def siu(row: Row) -> list[str]:
    status = APPOINTMENT_STATUS.get(row["status"].lower(), row["status"])
    body = [
        segment(
            "SCH",
            {
                1: f"P{hl7(row['appointment_id'])}",
                2: hl7(row["appointment_id"]),
                8: hl7(row["appointment_type"]),
                25: FILLER_STATUS.get(status, hl7(row["status"])),
            },
        ),
        segment("TQ1", {1: "1", 7: dtm(row["start_at"])}),
        pid(row["patient_id"]),
        "RGS|1",
        segment("AIS", {1: "1", 3: "VISIT^Office visit", 7: row["duration_minutes"], 8: "min"}),
        segment("AIL", {1: "1", 3: f"{hl7(row['location_id'])}^^^PMS"}),
        segment("AIP", {1: "1", 3: hl7(row["provider_id"])}),
    ]
    booked = dtm(row["booked_at"]) or dtm(row["start_at"])
    messages = [hl7_message("SIU^S12", booked, f"S12{row['appointment_id']}", body)]
    if status == "cancelled" and row["cancelled_at"]:
        cancelled = dtm(row["cancelled_at"])
        messages.append(hl7_message("SIU^S15", cancelled, f"S15{row['appointment_id']}", body))
    return messages


def dft(encounter: Row, charges: list[Row]) -> str:
    posted = dtm(max(c["posted_date"] for c in charges))
    body = [
        f"EVN|P03|{posted}",
        pid(encounter["patient_id"]),
        segment("PV1", {1: "1", 2: "O", 7: hl7(encounter["provider_id"]), 19: hl7(encounter["encounter_id"])}),
    ]
    for number, charge in enumerate(charges, 1):
        code = f"{hl7(charge['procedure_code'])}^^C4"
        fields = {1: str(number), 2: hl7(charge["charge_id"]), 4: dtm(charge["service_date"])}
        fields |= {5: dtm(charge["posted_date"]), 6: "CG", 7: code, 10: charge["units"], 11: charge["amount"]}
        fields |= {20: hl7(charge["provider_id"]), 25: code, 26: hl7(charge["modifier"])}
        body.append(segment("FT1", fields))
    return hl7_message("DFT^P03", posted, f"P03{encounter['encounter_id']}", body)


def adt(patient: Row) -> str:
    registered = dtm(patient["registered_on"]) or "20200101"
    body = [f"EVN|A04|{registered}", pid(patient["patient_id"], patient), "PV1|1|N"]
    return hl7_message("ADT^A04", registered, f"A04{patient['patient_id']}", body)


def write_hl7(export: Export, out: Path) -> list[Path]:
    """SIU, DFT and ADT files, the messages of MESSAGES_PER_FILE records each."""
    out.mkdir(parents=True, exist_ok=True)
    charges = export.by("charges", "encounter_id")
    # Each record's messages stay in one file: its events fold there (an S15 after its S12).
    kinds = {
        "siu": [siu(row) for row in export.records["appointments"]],
        "dft": [
            [dft(e, charges[e["encounter_id"]])] for e in export.records["encounters"] if e["encounter_id"] in charges
        ],
        "adt": [[adt(p)] for p in export.records["patients"]],
    }
    files = []
    for kind, records in kinds.items():
        for number, part in chunks(records, MESSAGES_PER_FILE):
            path = out / f"{kind}_{number:04d}.hl7"
            path.write_text("".join(m for messages in part for m in messages), encoding="utf-8")
            files.append(path)
    return files


# FHIR R4 --------------------------------------------------------------------------------------

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0276 = "http://terminology.hl7.org/CodeSystem/v2-0276"
FHIR_GENDER = {"f": "female", "m": "male", "o": "other", "u": "unknown"}
FOLLOW_UP = {"established", "follow-up", "follow up", "followup"}


def ref(kind: str, value: str) -> dict[str, str]:
    return {"reference": f"{kind}/{value}"}


def money(text: str, currency: str) -> dict[str, Any]:
    return {"value": float(text), "currency": currency}


def appointment(export: Export, row: Row) -> dict[str, Any]:
    start = datetime.datetime.fromisoformat(row["start_at"]).replace(tzinfo=export.time_zone)
    end = start + datetime.timedelta(minutes=int(row["duration_minutes"]))
    kind = "FOLLOWUP" if row["appointment_type"].lower() in FOLLOW_UP else "ROUTINE"
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": row["appointment_id"],
        "status": APPOINTMENT_STATUS.get(row["status"].lower(), row["status"]),
        "appointmentType": {"coding": [{"system": V2_0276, "code": kind}]},
        "start": start.isoformat(timespec="seconds"),
        "end": end.astimezone(export.time_zone).isoformat(timespec="seconds"),
        "participant": [
            {"actor": ref("Patient", row["patient_id"]), "status": "accepted"},
            {"actor": ref("Practitioner", row["provider_id"]), "status": "accepted"},
            {"actor": ref("Location", row["location_id"]), "status": "accepted"},
        ],
    }
    if row["booked_at"]:
        resource["created"] = export.offset_time(row["booked_at"])
    if row["cancelled_at"]:
        url = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationDate"
        resource["extension"] = [{"url": url, "valueDateTime": export.offset_time(row["cancelled_at"])}]
    return resource


def encounter(row: Row) -> dict[str, Any]:
    performer = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PPRF"}]}
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": row["encounter_id"],
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": ref("Patient", row["patient_id"]),
        "participant": [{"type": [performer], "individual": ref("Practitioner", row["provider_id"])}],
        "period": {"start": row["encounter_date"]},
        "location": [{"location": ref("Location", row["location_id"])}],
    }
    if row["appointment_id"]:
        resource["appointment"] = [ref("Appointment", row["appointment_id"])]
    codes = [c for c in row["diagnosis_codes"].split("|") if c]
    if codes:
        system = "http://hl7.org/fhir/sid/icd-10"
        resource["reasonCode"] = [{"coding": [{"system": system, "code": c}]} for c in codes]
    return resource


def patient(row: Row) -> dict[str, Any]:
    mr = {"coding": [{"system": V2_0203, "code": "MR"}]}
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": row["patient_id"],
        "identifier": [{"type": mr, "system": "urn:pms:mrn", "value": row["patient_id"]}],
        "name": [{"use": "official", "family": row["last_name"], "given": [row["first_name"]]}],
        "birthDate": row["date_of_birth"],
        "address": [
            {"use": "home", "line": [row["address_line"]], "city": row["city"], "postalCode": row["postal_code"]}
        ],
    }
    gender = FHIR_GENDER.get(row["sex"][:1].lower())
    if gender:
        resource["gender"] = gender
    telecom = [{"system": "phone", "value": row["phone"]}] if row["phone"] else []
    telecom += [{"system": "email", "value": row["email"]}] if row["email"] else []
    if telecom:
        resource["telecom"] = telecom
    return resource


def claim(export: Export, row: Row, charges: list[Row], currency: str) -> dict[str, Any]:
    cpt = "http://www.ama-assn.org/go/cpt"
    items = []
    for number, charge in enumerate(charges, 1):
        item: dict[str, Any] = {
            "sequence": number,
            "careTeamSequence": [1],
            "productOrService": {"coding": [{"system": cpt, "code": charge["procedure_code"]}]},
            "servicedDate": charge["service_date"],
            "quantity": {"value": int(charge["units"])},
            "net": money(charge["amount"], currency),
            "encounter": [ref("Encounter", charge["encounter_id"])],
        }
        if charge["modifier"]:
            item["modifier"] = [{"coding": [{"system": cpt, "code": charge["modifier"]}]}]
        items.append(item)
    priority = "http://terminology.hl7.org/CodeSystem/processpriority"
    resource = {
        "resourceType": "Claim",
        "id": row["claim_id"],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim",
        "patient": ref("Patient", row["patient_id"]),
        "created": export.offset_time(row["submitted_at"]),
        "insurer": ref("Organization", row["payer_id"]),
        "provider": ref("Practitioner", row["provider_id"]),
        "priority": {"coding": [{"system": priority, "code": "normal"}]},
        "careTeam": [{"sequence": 1, "provider": ref("Practitioner", row["provider_id"])}],
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage", f"COV-{row['patient_id']}")}],
        "total": money(row["billed_amount"], currency),
    }
    if items:
        resource["item"] = items
    return resource


def compact(value: Any) -> Any:
    """The resource without empty strings, lists and objects: FHIR allows none (R4 2.1.0.3)."""
    if isinstance(value, dict):
        kept = {k: compact(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ("", [], {}, None)}
    if isinstance(value, list):
        return [v for v in (compact(v) for v in value) if v not in ("", [], {}, None)]
    return value


def write_fhir(export: Export, out: Path, currency: str) -> list[Path]:
    """A bulk export: one NDJSON file per resource type and LINES_PER_FILE resources."""
    out.mkdir(parents=True, exist_ok=True)
    charges = export.by("charges", "encounter_id")
    kinds = {
        "Patient": [patient(r) for r in export.records["patients"]],
        "Appointment": [appointment(export, r) for r in export.records["appointments"]],
        "Encounter": [encounter(r) for r in export.records["encounters"]],
        "Claim": [claim(export, r, charges.get(r["encounter_id"], []), currency) for r in export.records["claims"]],
    }
    files = []
    for kind, resources in kinds.items():
        for number, part in chunks(resources, LINES_PER_FILE):
            path = out / f"{kind}.{number:03d}.ndjson"
            path.write_text(
                "".join(json.dumps(compact(r), separators=(",", ":")) + "\n" for r in part), encoding="utf-8"
            )
            files.append(path)
    return files
