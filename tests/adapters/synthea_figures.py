"""Figures computed straight from a Synthea CSV folder with the csv module and Decimal: what
the lakehouse must reproduce from the adapter's exports. Months are "YYYY-MM" in the
practice's zone; money is Decimal, exact to the cent."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

Row = dict[str, str]
Key = TypeVar("Key")

ZONE = ZoneInfo("America/New_York")  # the sample is a Massachusetts run
BOOKED = {"ambulatory", "outpatient", "wellness", "virtual"}  # classes that were appointments
CENT = Decimal("0.00")


def read(folder: Path, name: str) -> list[Row]:
    with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(ZONE)


def month(day: date) -> str:
    return f"{day:%Y-%m}"


def money_by(rows: Iterable[Row], key: Callable[[Row], Key], amount: str) -> dict[Key, Decimal]:
    totals: dict[Key, Decimal] = defaultdict(lambda: CENT)
    for row in rows:
        totals[key(row)] += Decimal(row[amount])
    return {k: v for k, v in totals.items() if v}  # a key whose lines are all 0.00 is no key


class Synthea:
    def __init__(self, folder: Path) -> None:
        self.encounters = read(folder, "encounters")
        self.claims = read(folder, "claims")
        transactions = read(folder, "claims_transactions")
        self.charge_lines = [t for t in transactions if t["TYPE"] == "CHARGE"]
        self.payments = [t for t in transactions if t["TYPE"] == "PAYMENT"]
        self.visit = {e["Id"]: e for e in self.encounters}
        self.claim = {c["Id"]: c for c in self.claims}

    # The one Synthea peculiarity the contracts catch: a line timed after its visit ended,
    # past local midnight, while the claim was billed when the visit ended.
    @cached_property
    def billed_before_done(self) -> list[Row]:
        return [
            t
            for t in self.charge_lines
            if local(t["FROMDATE"]).date() > local(self.claim[t["CLAIMID"]]["LASTBILLEDDATE1"]).date()
        ]

    @cached_property
    def charges(self) -> list[Row]:
        """The charge lines the lakehouse keeps."""
        dropped = {t["ID"] for t in self.billed_before_done}
        return [t for t in self.charge_lines if t["ID"] not in dropped]

    def payer_of_claim(self, claim: Row) -> str:
        # Synthea leaves the uninsured's claims without a payer; their visit names NO_INSURANCE.
        return claim["PRIMARYPATIENTINSURANCEID"] or self.visit[claim["APPOINTMENTID"]]["PAYER"]

    def paid_on(self, payment: Row) -> date:
        """A copay at the visit; anything else when the claim was billed (Synthea bills payers
        and patient at once: LASTBILLEDDATE2 and P equal LASTBILLEDDATE1 or are empty)."""
        claim = self.claim[payment["CLAIMID"]]
        assert claim["LASTBILLEDDATE2"] in ("", claim["LASTBILLEDDATE1"])
        assert claim["LASTBILLEDDATEP"] == claim["LASTBILLEDDATE1"]
        stamp = payment["FROMDATE"] if payment["METHOD"] == "COPAY" else claim["LASTBILLEDDATE1"]
        return local(stamp).date()

    @cached_property
    def service_month(self) -> dict[str, str]:
        """Of each visit: the month of its first kept charge line, else of its start."""
        first: dict[str, date] = {e["Id"]: local(e["START"]).date() for e in self.encounters}
        lines: dict[str, date] = {}
        for t in self.charges:
            day = local(t["FROMDATE"]).date()
            lines[t["APPOINTMENTID"]] = min(day, lines.get(t["APPOINTMENTID"], day))
        return {visit: month(lines.get(visit, day)) for visit, day in first.items()}

    # Charges
    def total_charges(self) -> Decimal:
        return sum((Decimal(t["AMOUNT"]) for t in self.charges), CENT)

    def charges_by_month(self) -> dict[str, Decimal]:
        return money_by(self.charges, lambda t: month(local(t["FROMDATE"]).date()), "AMOUNT")

    def charges_by_payer(self) -> dict[str, Decimal]:
        return money_by(self.charges, lambda t: self.payer_of_claim(self.claim[t["CLAIMID"]]), "AMOUNT")

    def charges_by_service_month(self) -> dict[str, Decimal]:
        return money_by(self.charges, lambda t: self.service_month[t["APPOINTMENTID"]], "AMOUNT")

    def charges_by_provider_service_month(self) -> dict[tuple[str, str], Decimal]:
        def key(t: Row) -> tuple[str, str]:
            return self.visit[t["APPOINTMENTID"]]["PROVIDER"], self.service_month[t["APPOINTMENTID"]]

        return money_by(self.charges, key, "AMOUNT")

    # Payments: ECHECK is a payer's, every other method the patient's.
    def total_payments(self) -> Decimal:
        return sum((Decimal(t["PAYMENTS"]) for t in self.payments), CENT)

    def payments_by_source(self) -> dict[str, Decimal]:
        return money_by(self.payments, lambda t: "payer" if t["METHOD"] == "ECHECK" else "patient", "PAYMENTS")

    def payments_by_month(self) -> dict[str, Decimal]:
        return money_by(self.payments, lambda t: month(self.paid_on(t)), "PAYMENTS")

    def payments_by_service_month(self) -> dict[tuple[str, str], Decimal]:
        def key(t: Row) -> tuple[str, str]:
            return self.service_month[t["APPOINTMENTID"]], "payer" if t["METHOD"] == "ECHECK" else "patient"

        return money_by(self.payments, key, "PAYMENTS")

    def payments_by_provider_month(self) -> dict[tuple[str, str], Decimal]:
        return money_by(
            self.payments, lambda t: (self.visit[t["APPOINTMENTID"]]["PROVIDER"], month(self.paid_on(t))), "PAYMENTS"
        )

    # Visits
    def kept_appointments_by_month(self) -> Counter[str]:
        return Counter(month(local(e["START"]).date()) for e in self.encounters if e["ENCOUNTERCLASS"] in BOOKED)

    def encounters_by_month(self) -> Counter[str]:
        return Counter(month(local(e["START"]).date()) for e in self.encounters)

    def encounters_by_provider_month(self) -> Counter[tuple[str, str]]:
        return Counter((e["PROVIDER"], month(local(e["START"]).date())) for e in self.encounters)

    def visits_by_payer(self) -> Counter[str]:
        return Counter(e["PAYER"] for e in self.encounters)
