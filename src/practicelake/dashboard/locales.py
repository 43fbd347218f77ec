"""A practice's locale (settings: a BCP 47 tag such as `en-ZA`) as Babel reads it, for every
number and amount the dashboard writes, in its pages' cells and in its sentences alike."""

from __future__ import annotations

from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency

DEFAULT_LOCALE = "en-US"


def locale_of(tag: str | None) -> Locale:
    """A BCP 47 tag (`en-ZA`, the settings' form) as a Babel locale; en-US when unknown."""
    try:
        return Locale.parse(tag or DEFAULT_LOCALE, sep="-")
    except (ValueError, LookupError):
        return Locale.parse(DEFAULT_LOCALE, sep="-")


def money_text(amount: Decimal | float, currency: str, tag: str | None) -> str:
    """`R107 514,56` for en-ZA: the amount as the practice's tiles show it."""
    return str(format_currency(amount, currency, locale=locale_of(tag)))
