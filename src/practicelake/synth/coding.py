"""Clinical and billing code sets, and the vocabularies different practice systems write."""

from __future__ import annotations

from dataclasses import dataclass

# CPT codes with a US-dollar list fee; regions scale them by Region.fee_factor.
FEES: dict[str, int] = {
    "99203": 165, "99204": 245, "99205": 320,
    "99212": 85, "99213": 130, "99214": 190, "99215": 260,
    "99393": 205, "99395": 230, "99396": 245, "99397": 265,
    "36415": 15, "85025": 35, "80053": 45, "83036": 40, "93000": 60,
    "90686": 45, "90471": 28, "87880": 35, "81002": 18, "96372": 40, "20610": 140, "71046": 95,
}  # fmt: skip
PROCEDURES: tuple[str, ...] = tuple(FEES)

# Evaluation and management levels with their shares, by visit kind.
NEW_VISIT_LEVELS = (("99203", 0.60), ("99204", 0.35), ("99205", 0.05))
FOLLOW_UP_LEVELS = (("99212", 0.08), ("99213", 0.52), ("99214", 0.35), ("99215", 0.05))

# ICD-10-CM codes. Respiratory codes follow the winter peak.
RESPIRATORY = ("J06.9", "J02.9", "J20.9", "J01.90", "R05.9")
ACUTE = ("M54.50", "R51.9", "R10.9", "N39.0", "L03.90", "K52.9", "H10.9", "S93.401A", "M54.5")
CHRONIC = ("I10", "E11.9", "E78.5", "E66.9", "F41.1", "K21.9", "M17.11", "J45.909", "E03.9", "F32.A")
PREVENTIVE_ADULT = "Z00.00"
PREVENTIVE_CHILD = "Z00.129"
VACCINATION = "Z23"

# CARC denial codes (all in contracts/reference/carc.csv) with their weights, and which are
# fixable by correcting and resubmitting the claim rather than appealing or writing off.
DENIAL_CODES = (
    ("16", 20, "fix"), ("197", 15, "fix"), ("50", 10, "appeal"), ("96", 10, "none"), ("204", 8, "none"),
    ("29", 5, "none"), ("22", 5, "fix"), ("31", 5, "fix"), ("11", 5, "fix"), ("109", 5, "none"),
    ("27", 3, "none"), ("26", 3, "none"), ("18", 4, "none"), ("251", 2, "fix"),
)  # fmt: skip
REMARK_CODES = ("N130", "M15", "N20", "MA130", "N290", "M76")
CONTRACTUAL = "45"
BUNDLED = "97"
DEDUCTIBLE, COINSURANCE, COPAY = "1", "2", "3"

PLACES_OF_SERVICE = ("11", "02", "10")


@dataclass(frozen=True)
class Vocabulary:
    """How one practice-management system spells its coded values (all contract keys)."""

    booked: str
    fulfilled: str
    noshow: str
    cancelled: str
    late_cancel: str
    new: str
    follow_up: str
    sexes: tuple[str, str, str, str]  # female, male, other, unknown
    payer_source: str
    patient_source: str
    icd_dots: bool


VOCABULARIES = (
    Vocabulary(
        "Scheduled", "Completed", "No Show", "Cancelled", "Late Cancel", "New Patient", "Established",
        ("F", "M", "O", "U"), "Insurance", "Patient", True,
    ),
    Vocabulary(
        "booked", "fulfilled", "noshow", "cancelled", "cancelled", "new", "follow-up",
        ("female", "male", "other", "unknown"), "payer", "patient", True,
    ),
    Vocabulary(
        "Confirmed", "Checked Out", "DNA", "Canceled", "Canceled", "New", "Follow Up",
        ("F", "M", "O", "U"), "payer", "patient", False,
    ),
)  # fmt: skip
