"""File-level checks of practicelake's CSV export at ingest: is this a readable CSV export of a
known dataset?

A file that fails is still kept in raw, byte for byte, and is marked failed in the
manifest with the reason given here. Row-level problems are the transform's business.
A reason names the problem and where it is (line, offset); it never quotes the file's
content beyond a few column names of the header, cut short and escaped.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

from practicelake.contracts import BY_DATASET, Contract
from practicelake.errors import MalformedFileError
from practicelake.formats.csv_records import check_line_ends, check_records
from practicelake.settings import cited

BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HEADER_LIMIT = 1 << 16
"""Longest header line, in bytes: the transform reads the header from the file's first 64 KiB."""
CITED_COLUMNS = 5
SAFE_NAME = re.compile(r"[0-9A-Za-z_]{1,40}")


def normalise_header(name: str) -> str:
    """'Appointment ID ' -> 'appointment_id'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def column_list(names: list[str]) -> str:
    """'a, b, c, d, e and 99,995 more': a few names, each short and escaped, then a count."""
    shown = [name if SAFE_NAME.fullmatch(name) else cited(name) for name in names[:CITED_COLUMNS]]
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" and {rest:,} more" if rest else "")


def contract_for(dataset: str) -> Contract:
    try:
        return BY_DATASET[dataset]
    except KeyError:
        known = ", ".join(sorted(BY_DATASET))
        raise MalformedFileError(f"unknown dataset {cited(dataset)} (expected one of: {known})") from None


def decode(data: bytes) -> str:
    """The file's text; MalformedFileError if it is empty, binary or not UTF-8."""
    if not data.strip():
        raise MalformedFileError("empty file")
    if data.startswith(UTF16_BOMS):
        raise MalformedFileError("UTF-16 text: export as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise MalformedFileError(f"binary content (NUL byte at offset {nul})")
    skipped = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skipped + exc.start
        raise MalformedFileError(f"not UTF-8: byte 0x{data[offset]:02x} at offset {offset} cannot be decoded") from None


def header_of(text: str) -> list[str]:
    """The normalised column names of the first line of `text`."""
    end = text.find("\n")
    first_line = (text if end < 0 else text[:end]).rstrip("\r")
    try:
        return [normalise_header(name) for name in next(csv.reader([first_line]), [])]
    except csv.Error as exc:  # a name longer than the csv module's field limit
        raise MalformedFileError(f"line 1: the header cannot be read ({exc})") from None


def check_header(contract: Contract, header: list[str]) -> None:
    expected = contract.column_names
    missing = [name for name in expected if name not in header]
    unexpected = [name for name in header if name not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append("missing columns: " + column_list(missing))
        if unexpected:
            parts.append("unexpected columns: " + column_list(unexpected))
        raise MalformedFileError("wrong columns for " + contract.dataset + ": " + "; ".join(parts))
    if len(set(header)) != len(header):
        repeated = sorted(name for name, count in Counter(header).items() if count > 1)
        raise MalformedFileError("duplicate column names in the header: " + column_list(repeated))


def check_header_size(text: str) -> None:
    end = text.find("\n")
    length = len((text if end < 0 else text[:end]).encode())
    if length > HEADER_LIMIT:
        raise MalformedFileError(f"line 1: the header is {length:,} bytes long, more than {HEADER_LIMIT:,}")


def validate(dataset: str, data: bytes) -> Contract:
    """The file's contract, if the file is a structurally sound export of `dataset`."""
    contract = contract_for(dataset)
    text = decode(data)
    check_line_ends(text)
    check_header_size(text)
    header = header_of(text)
    check_header(contract, header)
    check_records(text, len(header))
    return contract
