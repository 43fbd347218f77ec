"""FHIR R4 data types as the text the contract checks read (clean.checks).

- instant and dateTime (R4 2.24.0.1): `2013-12-10T09:00:00Z` -> `2013-12-10 09:00:00Z`; the
  offset the source gave is kept as written, never added. A dateTime with a time but no offset
  (invalid R4, written by some exports) is the practice's wall time: `2013-12-10 09:00:00`.
  A date alone stays `YYYY-MM-DD`; a year or a year-month is written as the source gave it
  (the contract's date check then names it).
- The date of a dateTime is its day as written, in the source's own offset.
- Money.value (R4 2.24.0.9, a decimal) is read from the JSON text itself (never a float) and
  written with two decimals when that is exact; a value with more decimals is not rounded but
  refused (`Unmappable`), so that the record is quarantined with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Resource = Mapping[str, Any]
Row = dict[str, str | None]

CENT = Decimal("0.01")
# R4 dateTime / instant: a year, a month, a day, or a day with a time and (per the spec) an offset.
DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?)"
    r"(T(?P<time>[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


class Unmappable(Exception):
    """A record that breaks a rule only FHIR knows; the message names the element, never its value."""

    def __init__(self, detail: str, rule: str = "fhir_value") -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule


def timestamp(value: object) -> str | None:
    """An instant or dateTime as `YYYY-MM-DD HH:MM:SS[offset]`, a date alone as `YYYY-MM-DD`."""
    if not isinstance(value, str) or not value:
        return None
    match = DATE_TIME.fullmatch(value)
    if match is None:
        return value  # as the source wrote it: the contract's check names what is wrong
    if match["time"] is None:
        return match["date"]
    time = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    return f"{match['date']} {time}{match['offset'] or ''}"


def date(value: object) -> str | None:
    """The day of a date or dateTime, as the source wrote it (in its own offset)."""
    if not isinstance(value, str) or not value:
        return None
    match = DATE_TIME.fullmatch(value)
    return value if match is None else match["date"]


def moment(value: object) -> datetime | None:
    """A dateTime with a time, as a datetime (aware when the source gave an offset)."""
    if not isinstance(value, str) or DATE_TIME.fullmatch(value) is None or "T" not in value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def minutes_between(start: object, end: object) -> str | None:
    """Whole minutes from start to end: elapsed time when both carry an offset (a
    daylight-saving change counts as it happened), wall-clock difference when neither does."""
    first, last = moment(start), moment(end)
    if first is None or last is None or (first.tzinfo is None) != (last.tzinfo is None):
        return None
    seconds = (last - first).total_seconds()
    return str(round(seconds / 60))


def money(value: object, where: str) -> str | None:
    """Money (or a bare decimal) as text with two decimals; Unmappable when it has more."""
    if isinstance(value, Mapping):
        value = value.get("value")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float | str):
        raise Unmappable(f"{where} is not a decimal", "fhir_money")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise Unmappable(f"{where} is not a decimal", "fhir_money") from None
    if not amount.is_finite():
        raise Unmappable(f"{where} is not a decimal", "fhir_money")
    cents = amount.quantize(CENT)
    if cents != amount:
        raise Unmappable(f"{where} has more than two decimals (not rounded)", "fhir_money")
    return str(cents)


def codes(concept: object) -> list[tuple[str, str]]:
    """The (system, code) pairs of a CodeableConcept."""
    if not isinstance(concept, Mapping):
        return []
    return [
        (str(c.get("system") or ""), str(c["code"]))
        for c in concept.get("coding") or ()
        if isinstance(c, Mapping) and c.get("code") is not None
    ]


def first_code(concept: object) -> str | None:
    found = codes(concept)
    return found[0][1] if found else None


def label(concept: object) -> str | None:
    """A CodeableConcept as people read it: its text, else its first coding's display or code."""
    if not isinstance(concept, Mapping):
        return None
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or ():
        if isinstance(coding, Mapping) and (coding.get("display") or coding.get("code")):
            return str(coding.get("display") or coding.get("code"))
    return None


def listed(resource: Resource, element: str) -> list[Any]:
    """An element of cardinality 0..* (a list, or absent)."""
    value = resource.get(element)
    return list(value) if isinstance(value, list) else []


def part(resource: Mapping[str, Any], element: str) -> Mapping[str, Any]:
    """An element of cardinality 0..1 that is a structure (a Period, an Address), or {}."""
    value = resource.get(element)
    return value if isinstance(value, Mapping) else {}


def text(value: object) -> str | None:
    return None if value is None or isinstance(value, Mapping | list) else str(value)
