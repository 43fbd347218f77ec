"""The X12 sample files of tests/fixtures/formats/x12, and figures read from them with plain
Python (split on the ISA's delimiters, count and add segments), apart from practicelake's
reading of them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

FIXTURES = Path(__file__).parents[2] / "fixtures" / "formats" / "x12"


def segments(data: bytes) -> list[list[str]]:
    text = data.decode("latin-1")
    element, terminator = text[3], text[105]
    return [piece.strip().split(element) for piece in text.split(terminator) if piece.strip()]


def transaction_code(path: Path) -> str:
    return next(s[1] for s in segments(path.read_bytes()) if s[0] == "ST")


def samples(code: str) -> list[Path]:
    files = [p for p in sorted(FIXTURES.rglob("*")) if p.is_file() and p.name != "SOURCE.txt"]
    return [p for p in files if transaction_code(p) == code]


REMITTANCES = samples("835")
CLAIM_FILES = samples("837")


def of(found: list[list[str]], tag: str) -> list[list[str]]:
    return [s for s in found if s[0] == tag]


def total(values: list[str]) -> Decimal:
    return sum((Decimal(v) for v in values if v), Decimal(0))


def cas_amounts(found: list[list[str]]) -> list[str]:
    """Every CAS amount (CAS03, 06, ... 18) of an 835."""
    return [s[i] for s in of(found, "CAS") for i in range(3, 20, 3) if i < len(s) and s[i]]


def plb_amounts(found: list[list[str]]) -> list[str]:
    return [s[i] for s in of(found, "PLB") for i in range(4, 15, 2) if i < len(s) and s[i]]
