"""Contracts of the cleaned zone: one per entity, declared once."""

import csv
from functools import cache
from importlib import resources

from practicelake.contracts.billing import ADJUSTMENT, CHARGE, CLAIM, PAYMENT
from practicelake.contracts.model import Column, Contract, Kind, Pii, Rule
from practicelake.contracts.organisation import LOCATION, PAYER, PRACTICE, PROVIDER, PROVIDER_SCHEDULE
from practicelake.contracts.patient import PATIENT
from practicelake.contracts.remittance import CLAIM_OUTCOME
from practicelake.contracts.scheduling import APPOINTMENT, ENCOUNTER

CONTRACTS: tuple[Contract, ...] = (
    PRACTICE,
    LOCATION,
    PROVIDER,
    PROVIDER_SCHEDULE,
    PAYER,
    PATIENT,
    APPOINTMENT,
    ENCOUNTER,
    CHARGE,
    CLAIM,
    CLAIM_OUTCOME,
    PAYMENT,
    ADJUSTMENT,
)

BY_DATASET: dict[str, Contract] = {c.dataset: c for c in CONTRACTS}
BY_ENTITY: dict[str, Contract] = {c.entity: c for c in CONTRACTS}


@cache
def reference_codes(name: str) -> dict[str, dict[str, str]]:
    """A reference list shipped with practicelake (e.g. 'carc'), by code."""
    text = resources.files(__package__).joinpath("reference", f"{name}.csv").read_text(encoding="utf-8")
    return {row["code"]: row for row in csv.DictReader(text.splitlines())}


__all__ = ["BY_DATASET", "BY_ENTITY", "CONTRACTS", "Column", "Contract", "Kind", "Pii", "Rule", "reference_codes"]
