"""The resources of a FHIR file, each with its position ("entry").

Three shapes are read (FHIR R4 2.1.0 JSON, 2.36 Bundle, Bulk Data Access 2.0 NDJSON):
- a single resource (a JSON object with `resourceType`): position 1;
- a Bundle of any type: its `entry[].resource`, numbered 1, 2, ... in document order; a
  Bundle inside an entry counts as that entry and its own entries follow it in the numbering,
  so that every position names one resource;
- an NDJSON bulk export: one resource a line, blank lines allowed; the position is the line
  (a Bundle on a line gives all its resources that line).

A file that is not JSON, nor NDJSON whose first non-blank line is a resource, is a
MalformedFileError naming where parsing stopped. An NDJSON line that is not JSON, or any entry
that is not a resource, is an `Entry` with an error: the reader makes it a bad row of the
datasets its resource type feeds (guessed from the raw text when it can be), else of all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from practicelake.errors import MalformedFileError

BOM = "\ufeff"
BLANK = " \t\r"
RESOURCE_TYPE = re.compile(r'"resourceType"\s*:\s*"([A-Za-z]{1,64})"')
# A whole file is parsed at sniff time only up to this size; past it, its opening is enough.
SNIFF_WHOLE = 16 << 20


@dataclass(frozen=True)
class Entry:
    position: int
    resource: Mapping[str, Any] | None  # None: the entry could not be read
    full_url: str | None = None
    error: str | None = None
    resource_type: str | None = None  # the type, or for an unreadable entry the one its text names


def loads(text: str) -> Any:
    """JSON with its decimals as Decimal: a money value keeps the digits the source wrote."""
    return json.loads(text, parse_float=Decimal)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as error:
        raise MalformedFileError(f"FHIR JSON is not UTF-8 (byte {error.start + 1})") from None


def _is_resource(value: object) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("resourceType"), str)


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """The non-blank lines and their numbers; NDJSON ends lines with LF (CRLF read alike), never
    with the other breaks str.splitlines knows (a record separator inside a value is no line end)."""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip(BLANK):
            yield number, line.removesuffix("\r")


def _first_line(text: str) -> tuple[int, str] | None:
    return next(_lines(text), None)


def sniff(data: bytes) -> bool:
    """Whether the bytes are a FHIR resource, Bundle or NDJSON export (by their first object)."""
    head = data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return False
    try:
        text = data.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError:
        return False
    first = _first_line(text)
    if first is not None:
        try:
            if _is_resource(loads(first[1])):
                return True
        except (ValueError, RecursionError):
            pass
    if len(data) > SNIFF_WHOLE:
        return re.match(r'\s*\{\s*"resourceType"\s*:\s*"', text) is not None
    try:
        return _is_resource(loads(text))
    except (ValueError, RecursionError):
        return False


def read(data: bytes) -> list[Entry]:
    """Every entry of the file, in order; MalformedFileError if it is no FHIR JSON at all."""
    text = _decode(data)
    try:
        document = loads(text)
    except RecursionError:
        raise MalformedFileError("FHIR JSON is nested too deeply to read") from None
    except ValueError as error:
        return _ndjson(text, error)
    if not _is_resource(document):
        raise MalformedFileError("FHIR JSON is not a resource: its top level has no resourceType")
    if document["resourceType"] == "Bundle":
        return list(_bundle(document, counter=iter(range(1, 1 << 62))))
    return [Entry(1, document, None, None, document["resourceType"])]


def _ndjson(text: str, whole_error: ValueError) -> list[Entry]:
    first = _first_line(text)
    try:
        opening = loads(first[1]) if first is not None else None
    except (ValueError, RecursionError):
        opening = None
    if not _is_resource(opening):
        where = whole_error if isinstance(whole_error, json.JSONDecodeError) else None
        at = f" at line {where.lineno}, column {where.colno}" if where is not None else ""
        raise MalformedFileError(f"not FHIR JSON or NDJSON: cannot parse{at}") from None
    entries: list[Entry] = []
    for number, line in _lines(text):
        try:
            resource = loads(line)
        except (ValueError, RecursionError):
            named = RESOURCE_TYPE.search(line)
            entries.append(Entry(number, None, None, "the line is not JSON", named[1] if named else None))
            continue
        if not _is_resource(resource):
            entries.append(Entry(number, None, None, "the line is not a resource (no resourceType)"))
        elif resource["resourceType"] == "Bundle":
            entries.extend(_bundle(resource, counter=None, line=number))
        else:
            entries.append(Entry(number, resource, None, None, resource["resourceType"]))
    return entries


def _bundle(bundle: Mapping[str, Any], counter: Iterator[int] | None, line: int = 0) -> Iterator[Entry]:
    """A Bundle's resources; `counter` numbers entries (a Bundle file), else all are `line`."""
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise MalformedFileError("Bundle.entry is not a list")
    for entry in entries:
        position = next(counter) if counter is not None else line
        if not isinstance(entry, Mapping):
            yield Entry(position, None, None, "Bundle entry is not an object")
            continue
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        resource = entry.get("resource")
        if resource is None:
            continue  # a request or response without a resource (Bundle.entry.resource 0..1) is no record
        if not _is_resource(resource):
            yield Entry(position, None, full_url, "Bundle entry resource has no resourceType")
        elif resource["resourceType"] == "Bundle":
            yield Entry(position, resource, full_url, None, "Bundle")
            yield from _bundle(resource, counter, line)
        else:
            yield Entry(position, resource, full_url, None, resource["resourceType"])
