"""`charges` from DFT^P03 (post detail financial transactions, HL7 v2.8 chapter 6): one row per
FT1 segment whose transaction type (FT1-6, table 0017) is a charge (CG, or not given). A row's
position is its message's MSH; a bad line's detail names the segment of its FT1.

| contract column | HL7 v2.8 field                                                                  |
|-----------------|---------------------------------------------------------------------------------|
| charge_id       | FT1-2 transaction id, else MSH-10 message control id `-` FT1-1 set id           |
| encounter_id    | PV1-19.1 visit number (the PV1 before the FT1, else the message's first)        |
| patient_id      | PID-3 (patients.patient_id)                                                     |
| provider_id     | FT1-20.1 performed by, else FT1-21.1 ordered by, else PV1-7.1 attending doctor  |
| procedure_code  | FT1-25.1 procedure code, else FT1-7.1 when its coding system (FT1-7.3) is CPT/HCPCS |
| modifier        | FT1-26.1 (the first repetition)                                                 |
| units           | FT1-10 transaction quantity                                                     |
| amount          | FT1-11.1.1 extended amount (all units), else FT1-12.1.1 unit amount x FT1-10    |
| service_date    | FT1-4.1 transaction date (the start of its range), its day                      |
| posted_date     | FT1-5 transaction posting date, its day                                         |
| (recorded_at)   | the message's time, EVN-2 else MSH-7 (messages.Message.time): lineage          |

Decisions: the rendering provider is who performed the procedure (FT1-20); a line without one
falls back to who ordered it, then to the visit's attending doctor. Credits (CD), payments
(PY) and adjustments (AJ) in FT1 are not charges: they are counted in a warning.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from practicelake.formats.base import RECORDED, BadRow
from practicelake.formats.hl7v2.messages import Message
from practicelake.formats.hl7v2.patients import patient_id
from practicelake.formats.hl7v2.segments import Segment
from practicelake.formats.hl7v2.times import date_text, timestamp_text

EVENTS = ("P03",)
COLUMNS = (
    "charge_id",
    "encounter_id",
    "patient_id",
    "provider_id",
    "procedure_code",
    "modifier",
    "units",
    "amount",
    "service_date",
    "posted_date",
)
CHARGE_TYPES = ("CG", "")
# Coding systems of FT1-7 that are procedure codes (HL7 table 0396): C4 CPT-4, C5 CPT-5, HCPCS.
PROCEDURE_SYSTEMS = ("C4", "C5", "CPT", "CPT4", "HCPCS", "HCPT")

Charge = dict[str, str | None]


def _number(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _amount(ft1: Segment) -> tuple[str | None, str | None]:
    """The amount, or the reason it cannot be read."""
    extended = ft1.value(11)
    if extended is not None:
        return extended, None
    unit, units = ft1.value(12), ft1.value(10)
    if unit is None:
        return None, None
    price, quantity = _number(unit), _number(units)
    if price is None or quantity is None:
        return None, "FT1-11 is empty and FT1-12 x FT1-10 cannot be computed"
    return f"{(price * quantity).normalize():f}", None


def _procedure(ft1: Segment) -> str | None:
    code = ft1.value(25)
    if code is not None:
        return code
    if (ft1.value(7, 3) or "").upper() in PROCEDURE_SYSTEMS:
        return ft1.value(7)
    return None


def _where(ft1: Segment) -> str:
    return f"FT1 at segment {ft1.position}"


def charge_of(message: Message, ft1: Segment, pv1: Segment | None) -> Charge | BadRow:
    amount, problem = _amount(ft1)
    if problem is not None:
        return BadRow(message.position, f"{_where(ft1)}: {problem}", "hl7_amount")
    charge_id = ft1.value(2)
    if charge_id is None:
        if message.control_id is None or ft1.value(1) is None:
            detail = f"{_where(ft1)}: FT1-2 is empty, and MSH-10 or FT1-1 too: the charge has no id"
            return BadRow(message.position, detail, "hl7_structure")
        charge_id = f"{message.control_id}-{ft1.value(1)}"
    provider = ft1.value(20) or ft1.value(21) or (pv1.value(7) if pv1 is not None else None)
    return {
        "charge_id": charge_id,
        "encounter_id": pv1.value(19) if pv1 is not None else None,
        "patient_id": patient_id(message.first("PID")),
        "provider_id": provider,
        "procedure_code": _procedure(ft1),
        "modifier": ft1.value(26),
        "units": ft1.value(10),
        "amount": amount,
        "service_date": date_text(ft1.value(4)),
        "posted_date": date_text(ft1.value(5)),
        RECORDED: timestamp_text(message.time),
    }


def read(messages: list[Message]) -> tuple[list[Charge], list[int], list[BadRow], int]:
    """The charge lines, the positions of their messages, the bad ones (each naming its FT1),
    and how many FT1 were not charges."""
    rows: list[Charge] = []
    positions: list[int] = []
    bad: list[BadRow] = []
    other = 0
    for message in messages:
        pv1: Segment | None = None
        first_pv1 = message.first("PV1")
        for segment in message.segments:
            if segment.name == "PV1":
                pv1 = segment
            if segment.name != "FT1":
                continue
            if not message.readable:
                detail = f"{_where(segment)}: its MSH declares no valid encoding characters"
                bad.append(BadRow(message.position, detail, "hl7_structure"))
                continue
            if (segment.value(6) or "").upper() not in CHARGE_TYPES:
                other += 1
                continue
            found = charge_of(message, segment, pv1 or first_pv1)
            if isinstance(found, BadRow):
                bad.append(found)
            else:
                rows.append(found)
                positions.append(message.position)
    return rows, positions, bad, other
