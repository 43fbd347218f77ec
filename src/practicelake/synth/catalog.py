"""Reference pools for synthetic practices: regions, payers, people and place names.

Patient-identifying pools (patient names, streets, cities, postal codes) share no value with
any pool that ends up in a non-identifier column, so a scan of the cleaned zone for patient
identifiers cannot hit a provider, payer, practice or location name by accident.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PayerProfile:
    name: str
    payer_type: str  # as the source system writes it (a key of the contract's allowed values)
    kind: str  # medical_scheme, insurer, government or self_pay
    share_under_65: float
    share_over_65: float
    denial_rate: float  # first-pass denials
    lag_days: float  # mean days from submission to adjudication
    allowed_ratio: float  # allowed amount as a share of the billed amount
    copay: int  # in currency units, collected at the point of service
    coinsurance: float  # patient share of the allowed amount after the copay
    deductible: bool  # patients meet a deductible early in the year


@dataclass(frozen=True)
class Region:
    code: str
    time_zone: str
    currency: str
    country: str
    fee_factor: float  # local fee schedule relative to the US-dollar catalogue
    southern: bool  # winter (and the respiratory peak) falls mid-year
    saturday_clinic: bool
    cheque_word: str
    practice_names: tuple[str, ...]
    location_postal_codes: tuple[str, ...]
    specialties: tuple[str, ...]
    holidays: tuple[tuple[int, int], ...]  # (month, day) the practice is closed
    payers: tuple[PayerProfile, ...]
    homes: tuple[tuple[str, str], ...]  # patients' (city, postal code)
    streets: tuple[str, ...]
    phone_prefixes: tuple[str, ...]
    phone_style: str  # za, us or uk


def _payer(name: str, payer_type: str, kind: str, shares: tuple[float, float], *terms: float) -> PayerProfile:
    denial, lag, ratio, copay, coinsurance, deductible = terms
    return PayerProfile(
        name, payer_type, kind, shares[0], shares[1], denial, lag, ratio, int(copay), coinsurance, bool(deductible)
    )


_ZA_PAYERS = (
    _payer("Protea Health Medical Scheme", "Medical Scheme", "medical_scheme", (0.32, 0.30), 0.06, 12, 0.86, 0, 0.0, 0),
    _payer("Summit Medical Aid", "Medical Scheme", "medical_scheme", (0.24, 0.22), 0.09, 16, 0.80, 0, 0.1, 0),
    _payer("Karoo Benefit Fund", "medical_scheme", "medical_scheme", (0.16, 0.20), 0.11, 21, 0.75, 0, 0.0, 1),
    _payer("Self-Pay Account", "Self-Pay", "self_pay", (0.28, 0.28), 0, 0, 1, 0, 0, 0),
)
_US_PAYERS = (
    _payer("Granite Peak Insurance", "Commercial", "insurer", (0.34, 0.06), 0.07, 14, 0.62, 25, 0.0, 1),
    _payer("Meridian Shield Health", "Commercial", "insurer", (0.22, 0.04), 0.10, 18, 0.58, 30, 0.1, 1),
    _payer("Federal Medicare Part B", "Medicare", "government", (0.03, 0.80), 0.05, 24, 0.48, 0, 0.2, 1),
    _payer("State Medicaid Program", "Medicaid", "government", (0.26, 0.05), 0.12, 35, 0.40, 0, 0.0, 0),
    _payer("Self Pay", "Self Pay", "self_pay", (0.15, 0.05), 0, 0, 1, 0, 0, 0),
)
_UK_PAYERS = (
    _payer("Albion Private Health", "Insurer", "insurer", (0.38, 0.30), 0.06, 15, 0.82, 0, 0.0, 1),
    _payer("Crown Medical Cover", "insurer", "insurer", (0.22, 0.20), 0.08, 19, 0.78, 0, 0.0, 0),
    _payer("NHS Commissioning Board", "Government", "government", (0.05, 0.12), 0.05, 40, 0.65, 0, 0.0, 0),
    _payer("Self-funded Patient", "self_pay", "self_pay", (0.35, 0.38), 0, 0, 1, 0, 0, 0),
)

_US_HOLIDAYS = ((1, 1), (5, 27), (7, 4), (9, 2), (11, 28), (12, 25))
_STREETS_US = (
    "Maple Avenue", "Elm Street", "Chestnut Street", "Linden Boulevard", "Sycamore Lane",
    "Birch Road", "Willow Court", "Magnolia Terrace", "Hawthorne Place", "Cedar Ridge Road",
)  # fmt: skip

REGIONS: tuple[Region, ...] = (
    Region(
        "za", "Africa/Johannesburg", "ZAR", "ZA", 6.5, True, True, "cheque",
        ("Jacaranda Family Practice", "Highveld Medical Rooms", "Msasa Family Doctors"),
        ("2001", "2041", "2146"),
        ("General Practice", "Family Medicine", "Paediatrics"),
        ((1, 1), (3, 21), (4, 27), (5, 1), (6, 16), (8, 9), (9, 24), (12, 16), (12, 25), (12, 26)),
        _ZA_PAYERS,
        (("Randburg", "2194"), ("Sandton", "2196"), ("Roodepoort", "1724"), ("Midrand", "1685"), ("Soweto", "1804"),
         ("Germiston", "1401"), ("Boksburg", "1459"), ("Benoni", "1501"), ("Alberton", "1449"),
         ("Kempton Park", "1619"), ("Fourways", "2191"), ("Edenvale", "1610")),
        ("Acacia Lane", "Protea Road", "Marula Avenue", "Baobab Crescent", "Impala Street", "Kudu Close",
         "Aloe Drive", "Fever Tree Way", "Yellowwood Road", "Stinkwood Street"),
        ("82", "83", "72", "71", "84", "61"),
        "za",
    ),
    Region(
        "ny", "America/New_York", "USD", "US", 1.0, False, False, "check",
        ("Hudson Primary Care Associates", "Empire Family Medicine", "Battery Internal Medicine"),
        ("10016", "10022", "10036"),
        ("Family Medicine", "Internal Medicine", "Pediatrics"),
        _US_HOLIDAYS,
        _US_PAYERS,
        (("Brooklyn", "11215"), ("Bronx", "10451"), ("Yonkers", "10701"), ("Hoboken", "07030"),
         ("Jersey City", "07302"), ("New Rochelle", "10801"), ("Flushing", "11354"), ("Staten Island", "10301"),
         ("Harlem", "10027"), ("Astoria", "11103"), ("Hempstead", "11550"), ("Mount Vernon", "10550")),
        _STREETS_US,
        ("212", "718", "917", "646", "347"),
        "us",
    ),
    Region(
        "uk", "Europe/London", "GBP", "GB", 0.8, False, True, "cheque",
        ("Thameside Private GP", "Kingsway Medical Practice", "Southbank Family Clinic"),
        ("EC1V 9HX", "W1G 6AB", "WC2N 5DU"),
        ("General Practice", "Family Medicine", "Paediatrics"),
        ((1, 1), (5, 6), (8, 26), (12, 25), (12, 26)),
        _UK_PAYERS,
        (("Hackney", "E8 3PN"), ("Islington", "N1 2XF"), ("Camberwell", "SE5 8RS"), ("Brixton", "SW9 7AB"),
         ("Walthamstow", "E17 4QA"), ("Ealing", "W5 2NH"), ("Tottenham", "N17 6SB"), ("Croydon", "CR0 1NX"),
         ("Lewisham", "SE13 5JX"), ("Wembley", "HA9 7DU"), ("Stratford", "E15 1BX"), ("Putney", "SW15 6AW")),
        ("Primrose Hill Road", "Bluebell Close", "Foxglove Way", "Bramble Lane", "Thistle Grove",
         "Ivy Mews", "Holly Crescent", "Laurel Road", "Rowan Terrace", "Juniper Walk"),
        ("7700", "7711", "7722", "7733"),
        "uk",
    ),
    Region(
        "chi", "America/Chicago", "USD", "US", 0.95, False, False, "check",
        ("Lakeshore Family Physicians", "Prairie Avenue Medical Group", "Wabash Primary Care"),
        ("60611", "60654", "60603"),
        ("Family Medicine", "Internal Medicine", "Pediatrics"),
        _US_HOLIDAYS,
        _US_PAYERS,
        (("Evanston", "60201"), ("Oak Park", "60302"), ("Cicero", "60804"), ("Skokie", "60076"),
         ("Berwyn", "60402"), ("Naperville", "60540"), ("Wicker Park", "60622"), ("Hyde Park", "60615"),
         ("Pilsen", "60608"), ("Logan Square", "60647"), ("Joliet", "60435"), ("Aurora", "60505")),
        _STREETS_US,
        ("312", "773", "872"),
        "us",
    ),
)  # fmt: skip

LOCATION_NAMES = ("Main Consulting Rooms", "North Satellite Clinic", "Day Clinic Annex")

FEMALE_NAMES = (
    "Amahle", "Bongiwe", "Charlotte", "Dimakatso", "Eleanor", "Fatima", "Gabriela", "Hannah", "Isabella",
    "Jasmine", "Keabetswe", "Lerato", "Margaret", "Naledi", "Olivia", "Priya", "Refilwe", "Sophia",
    "Thandiwe", "Unathi", "Victoria", "Winifred", "Yolanda", "Zanele", "Beatrice", "Camila", "Deborah",
    "Esther", "Florence", "Georgina",
)  # fmt: skip
MALE_NAMES = (
    "Ayanda", "Bheki", "Callum", "Desmond", "Ebrahim", "Frederick", "Gareth", "Hamish", "Ibrahim",
    "Jabulani", "Kagiso", "Lwazi", "Mandla", "Nathaniel", "Oluwaseun", "Pieter", "Quentin", "Rohan",
    "Sipho", "Tebogo", "Umar", "Vusumuzi", "Wesley", "Xolani", "Yusuf", "Zachary", "Benedict",
    "Cornelius", "Dominic", "Everton",
)  # fmt: skip
PATIENT_SURNAMES = (
    "Abernathy", "Botha", "Castellanos", "Dlamini", "Etheridge", "Fairweather", "Govender", "Hargreaves",
    "Ismail", "Jacobsen", "Khumalo", "Lindqvist", "Mahlangu", "Naidoo", "Okonkwo", "Pillay", "Quiroga",
    "Radebe", "Sithole", "Thistlewood", "Underhill", "Van der Merwe", "Whitlock", "Xaba", "Yardley",
    "Zwane", "Ashcombe", "Blackwood", "Cartwright", "Delacroix", "Ellsworth", "Featherstone", "Gallagher",
    "Holloway", "Iverson", "Jankowski", "Kowalczyk", "Lockhart", "Montgomery", "Nakamura", "O'Sullivan",
    "Pemberton", "Quinlan", "Rutherford", "Stanislaus", "Tremblay", "Ulrich", "Vasquez", "Wainwright",
    "Zimmerman", "Mokoena", "Baloyi", "Chetty", "Hendricks", "Petersen", "Moloi",
)  # fmt: skip
PROVIDER_SURNAMES = (
    "Adeyemi", "Brennan", "Chowdhury", "Dube", "Esterhuizen", "Fitzgerald", "Grobler", "Harrington",
    "Iqbal", "Joubert", "Kapoor", "Lombard", "Mthembu", "Nel", "Oosthuizen", "Patel", "Reddy", "Steyn",
    "Tshabalala", "Venter", "Whitfield", "Zulu", "Morrison", "Okafor", "Sandoval", "Larkin", "Hussain",
    "Ferreira", "Castillo", "Bergstrom",
)  # fmt: skip
EMAIL_DOMAINS = ("mailbox.example", "inbox.example", "post.example")

# Free-text notes; "{first}" is replaced by the patient's first name, as real notes do.
PATIENT_NOTES = (
    "{first} prefers morning appointments",
    "Allergic to penicillin",
    "Interpreter requested",
    "Call {first} on mobile, not landline",
    'Says "no SMS reminders", email only',
    "Wheelchair access needed",
    "{first} is a carer for a parent",
)
APPOINTMENT_NOTES = (
    "Follow-up BP check",
    "Flu shot",
    "{first} asked for a later slot",
    "Repeat script",
    'Results review, bring "old" reports',
    "Sick note needed",
)
ENCOUNTER_NOTES = (
    "{first} reports cough for 3 days",
    "BP reviewed, meds unchanged",
    "Wound dressing changed",
    "Discussed results with {first}",
    "Vaccination given, no reaction",
)
