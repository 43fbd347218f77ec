"""File-level checks at ingest: is this a readable CSV export of a known dataset?

A file that fails is still kept in raw, byte for byte, and is marked failed in the
manifest with the reason given here. Row-level problems are the transform's business.
"""

from __future__ import annotations

import csv
import io
import re

from practicelake.contracts import BY_DATASET, Contract
from practicelake.errors import MalformedFileError

BOM = b"\xef\xbb\xbf"


def normalise_header(name: str) -> str:
    """'Appointment ID ' -> 'appointment_id'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def contract_for(dataset: str) -> Contract:
    try:
        return BY_DATASET[dataset]
    except KeyError:
        known = ", ".join(sorted(BY_DATASET))
        raise MalformedFileError(f"unknown dataset {dataset!r} (expected one of: {known})") from None


def decode(data: bytes) -> str:
    """The file's text; MalformedFileError if it is empty, binary or not UTF-8."""
    if not data.strip():
        raise MalformedFileError("empty file")
    nul = data.find(b"\x00", 0, 1 << 16)
    if nul >= 0:
        raise MalformedFileError(f"binary content (NUL byte at offset {nul})")
    try:
        return data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(
            f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded"
        ) from None


def header_of(text: str) -> list[str]:
    first_line = text.split("\n", 1)[0].rstrip("\r")
    return [normalise_header(name) for name in next(csv.reader([first_line]))]


def check_header(contract: Contract, header: list[str]) -> None:
    expected = contract.column_names
    missing = [name for name in expected if name not in header]
    unexpected = [name for name in header if name not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append("missing columns: " + ", ".join(missing))
        if unexpected:
            parts.append("unexpected columns: " + ", ".join(unexpected))
        raise MalformedFileError("wrong columns for " + contract.dataset + ": " + "; ".join(parts))
    if len(set(header)) != len(header):
        raise MalformedFileError("duplicate column names in the header")


def check_complete(text: str, width: int) -> None:
    """A file cut off mid-row (no final newline, and a short or open-quoted last row)."""
    if text.endswith(("\n", "\r")):
        return
    last_line = text.rsplit("\n", 1)[-1]
    if last_line.count('"') % 2:
        raise MalformedFileError("truncated: the last row ends inside a quoted field")
    fields = next(csv.reader(io.StringIO(last_line)), [])
    if len(fields) < width:
        raise MalformedFileError(f"truncated: the last row has {len(fields)} of {width} fields")


def validate(dataset: str, data: bytes) -> Contract:
    """The file's contract, if the file is a structurally sound export of `dataset`."""
    contract = contract_for(dataset)
    text = decode(data)
    header = header_of(text)
    check_header(contract, header)
    check_complete(text, len(header))
    return contract
