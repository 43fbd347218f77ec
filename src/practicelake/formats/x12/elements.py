"""X12 element values as the contract checks read them.

X12 writes dates as CCYYMMDD (DTM/DTP with qualifier D8; RD8 is a range `CCYYMMDD-CCYYMMDD`),
times as HHMM or HHMMSS, amounts as the `R` data type (a decimal with an optional leading
minus, no thousands separator, `.5` allowed) and quantities the same way. A value that is not
what its type says is written as the source wrote it, so that the contract check rejects it
with its own rule; a format only turns the valid ones into the contract's text.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_DATE = re.compile(r"[0-9]{8}")
_TIME = re.compile(r"[0-9]{4}([0-9]{2})?")
_AMOUNT = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_WHOLE = re.compile(r"([0-9]+)(\.0*)?")
CENT = Decimal("0.01")


def element(elements: list[str], index: int) -> str | None:
    """The element at `index` (1-based, as the guide numbers them), None when absent or empty."""
    if index < len(elements):
        value = elements[index]
        return value if value else None
    return None


def date_text(value: str | None) -> str | None:
    """CCYYMMDD -> YYYY-MM-DD; a range (RD8 `CCYYMMDD-CCYYMMDD`) gives its first day."""
    if value is None:
        return None
    first = value.split("-", 1)[0]
    if _DATE.fullmatch(first):
        return f"{first[:4]}-{first[4:6]}-{first[6:8]}"
    return value


def last_date_text(value: str | None) -> str | None:
    """The last day of an RD8 range, or the date itself."""
    if value is None:
        return None
    return date_text(value.rsplit("-", 1)[-1] if "-" in value else value)


def timestamp_text(day: str | None, time: str | None) -> str | None:
    """A CCYYMMDD date and an HHMM[SS] time as the wall time `YYYY-MM-DD HH:MM:SS` (X12
    carries no offset: BHT05 is the sender's local time)."""
    on = date_text(day)
    if on is None or time is None or not _TIME.fullmatch(time) or on == day:
        return on
    seconds = time[4:6] or "00"
    return f"{on} {time[:2]}:{time[2:4]}:{seconds}"


def amount(value: str | None) -> Decimal | None:
    """The value of an X12 amount, or None when it is not one."""
    if value is None or not _AMOUNT.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None


def money_text(value: str | None) -> str | None:
    """An amount as the contract's money text: `.5` -> `0.5`, `-.5` -> `-0.5`, `12.` -> `12`."""
    if value is None or not _AMOUNT.fullmatch(value):
        return value
    sign, digits = ("-", value[1:]) if value.startswith("-") else ("", value)
    if digits.startswith("."):
        digits = "0" + digits
    return sign + digits.rstrip(".")


def money(value: Decimal) -> str:
    """A computed amount as money text, to the cent."""
    return str(value.quantize(CENT))


def whole_text(value: str | None) -> str | None:
    """A quantity written `1.00` is the integer 1; any other value is left as written."""
    if value is None:
        return None
    match = _WHOLE.fullmatch(value)
    return str(int(match.group(1))) if match else value
