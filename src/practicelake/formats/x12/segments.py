"""An X12 file -> its segments and the transaction sets they form, with the delimiters each
interchange declares (X12.5, the interchange control structure).

The ISA header is fixed width: the element separator is its 4th character, the component
separator is ISA16 and the segment terminator the character right after it; from version
00402 on, ISA11 is the repetition separator. Segments are split on that terminator, never on
line ends. A file whose delimiters are not line ends may be wrapped (a line break after each
terminator, or every 80 characters): line breaks are not X12 data there and are removed.

Read past, each with a warning: blank lines, empty segments, an ISA that is not 106
characters, an SE/GE/IEA count or control number that does not match, a missing GS, GE or
IEA, a file that is not UTF-8 (read as Latin-1). Several interchanges in one file, one-line
files and files with a line break after every terminator are all ordinary X12.

Refused (MalformedFileError, naming the segment by its position): a file that does not start
with ISA (after a byte-order mark or blank space), an ISA cut short, a segment outside a
transaction set, a transaction set that a new ST, a GE, an IEA or the end of the file
interrupts before its SE. Positions count segments from 1, the ISA being segment 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from practicelake.errors import MalformedFileError

ISA_LENGTH = 106
ISA_ELEMENTS = 16
_IDENTIFIER = re.compile(r"[A-Z][A-Z0-9]{1,2}")
# Segments allowed between transaction sets: the envelopes and the interchange acknowledgment.
_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "TA1"})
_BLANK_LINE = re.compile(r"\n[ \t]*(?=\n)")


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    repetition: str | None
    segment: str


@dataclass(frozen=True)
class Transaction:
    """One transaction set: segments[start] is its ST, segments[end] its SE (0-based)."""

    code: str  # ST01: "835", "837"
    implementation: str  # ST03, else GS08: "005010X221A1"
    start: int
    end: int
    delimiters: Delimiters


@dataclass
class Document:
    segments: list[list[str]]  # each segment's elements, its identifier first
    transactions: list[Transaction] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def identifier(text: str) -> str:
    """A segment identifier fit to name in a message (never a value of the file)."""
    return text if _IDENTIFIER.fullmatch(text) else "unreadable"


def decoded(data: bytes, warnings: list[str]) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append("the file is not UTF-8: read as Latin-1")
        text = data.decode("latin-1")
    return text.removeprefix("\ufeff")


def delimiters_at(text: str, start: int, position: int) -> tuple[Delimiters, list[str], int]:
    """The delimiters the ISA at `start` declares, its elements and where it ends (the index
    after its terminator)."""
    cut = MalformedFileError(f"the ISA header at segment {position} is cut short")
    if len(text) < start + 4:
        raise cut
    element = text[start + 3]
    if element.isalnum() or element.isspace():
        raise MalformedFileError(f"the ISA header at segment {position} has no element separator after 'ISA'")
    end = start
    for _ in range(ISA_ELEMENTS):
        end = text.find(element, end + 1)
        if end < 0:
            raise cut
    if len(text) < end + 3:
        raise cut
    component, segment = text[end + 1], text[end + 2]
    if len({element, component, segment}) < 3 or component.isalnum() or segment.isalnum():
        raise MalformedFileError(f"the ISA header at segment {position} declares unusable delimiters")
    elements = text[start : end + 2].split(element)
    repetition = elements[11] if len(elements[11]) == 1 and elements[12] >= "00402" else None
    if repetition is not None and (repetition.isalnum() or repetition in (element, component, segment)):
        repetition = None
    return Delimiters(element, component, repetition, segment), elements, end + 3


def _interchange_end(text: str, start: int, delimiters: Delimiters) -> int:
    """The index after this interchange's IEA segment, or the end of the file."""
    term, sep = re.escape(delimiters.segment), re.escape(delimiters.element)
    found = re.compile(f"{term}\\s*IEA{sep}[^{term}]*(?:{term}|$)").search(text, start)
    return found.end() if found else len(text)


def split_segments(data: bytes) -> tuple[list[list[str]], list[Delimiters], list[str]]:
    """Every segment of the file (elements, identifier first), the delimiters in force for
    each, and the warnings of the split."""
    warnings: list[str] = []
    text = decoded(data, warnings)
    segments: list[list[str]] = []
    in_force: list[Delimiters] = []
    blank = 0
    pos = len(text) - len(text.lstrip())
    if not text.startswith("ISA", pos):
        first = re.split(r"[^A-Za-z0-9]", text[pos : pos + 4], maxsplit=1)[0]
        if not text[pos:].strip():
            raise MalformedFileError("the file is empty: an X12 interchange starts with an ISA header")
        raise MalformedFileError(
            f"segment 1 ({identifier(first)}) comes before any ISA header: an X12 interchange starts with ISA"
        )
    while pos < len(text):
        delimiters, _, after = delimiters_at(text, pos, len(segments) + 1)
        if after - pos != ISA_LENGTH:
            warnings.append(f"the ISA header at segment {len(segments) + 1} is {after - pos} characters, not 106")
        end = _interchange_end(text, pos, delimiters)
        chunk = text[pos:end]
        if delimiters.segment not in "\r\n" and ("\n" in chunk or "\r" in chunk):
            blank += len(_BLANK_LINE.findall(chunk.replace("\r\n", "\n").replace("\r", "\n")))
            chunk = chunk.replace("\r", "").replace("\n", "")
        pieces = chunk.split(delimiters.segment)
        for number, piece in enumerate(pieces, start=1):
            piece = piece.strip()
            if piece:
                segments.append(piece.split(delimiters.element))
                in_force.append(delimiters)
            elif number < len(pieces):
                blank += 1
        pos = end + len(text[end:]) - len(text[end:].lstrip())
        if pos < len(text) and not text.startswith("ISA", pos):
            junk = text[pos:].split(delimiters.segment, 1)[0].split(delimiters.element, 1)[0].strip()
            raise MalformedFileError(
                f"segment {len(segments) + 1} ({identifier(junk)}) comes after the IEA that closes the interchange"
            )
    if blank > 0:
        warnings.append(f"{blank} blank line(s) or empty segment(s) skipped")
    return segments, in_force, warnings


@dataclass
class _Envelope:
    """The envelopes open at a point of the scan, for their counts and control numbers."""

    interchange: int | None = None  # position of the open ISA
    control: str = ""
    groups: int = 0
    group: int | None = None  # position of the open GS
    group_control: str = ""
    version: str = ""
    sets: int = 0
    transaction: int | None = None  # index of the open ST
    set_control: str = ""


def read_document(data: bytes) -> Document:
    """The file's segments and transaction sets; MalformedFileError when its structure
    cannot be read (see the module docstring)."""
    segments, in_force, warnings = split_segments(data)
    document = Document(segments, warnings=warnings)
    open_ = _Envelope()
    for index, elements in enumerate(segments):
        tag, position = elements[0], index + 1
        if open_.transaction is not None and tag not in ("SE", "ST", "GE", "IEA", "ISA", "GS"):
            continue
        if tag == "ST":
            _interrupted(open_, position, "a new ST begins")
            if open_.group is None:
                warnings.append(f"the transaction set at segment {position} is not inside a GS functional group")
            open_.transaction, open_.set_control, open_.sets = index, _at(elements, 2), open_.sets + 1
        elif tag == "SE":
            if open_.transaction is None:
                raise MalformedFileError(f"segment {position} (SE) closes no transaction set")
            _close_transaction(document, open_, elements, index, in_force[index])
        elif tag in ("GS", "GE", "ISA", "IEA"):
            _interrupted(open_, position, f"{tag} comes")
            _envelope(document, open_, elements, position)
        elif tag not in _ENVELOPE:
            raise MalformedFileError(f"segment {position} ({identifier(tag)}) is outside any transaction set (ST/SE)")
    if open_.transaction is not None:
        raise MalformedFileError(
            f"the transaction set at segment {open_.transaction + 1} (ST) has no SE: the file ends inside it"
        )
    if open_.group is not None:
        warnings.append(f"the functional group at segment {open_.group} has no GE")
    if open_.interchange is not None:
        warnings.append(f"the interchange at segment {open_.interchange} has no IEA")
    return document


def _at(elements: list[str], index: int) -> str:
    return elements[index] if index < len(elements) else ""


def _interrupted(open_: _Envelope, position: int, what: str) -> None:
    if open_.transaction is not None:
        raise MalformedFileError(
            f"the transaction set at segment {open_.transaction + 1} (ST) has no SE: {what} at segment {position}"
        )


def _close_transaction(
    document: Document, open_: _Envelope, elements: list[str], index: int, delimiters: Delimiters
) -> None:
    start = open_.transaction
    assert start is not None
    st = document.segments[start]
    count, position = _at(elements, 1), index + 1
    if count != str(index - start + 1):
        document.warnings.append(
            f"SE at segment {position} counts {count or 'no'} segments; the transaction set has {index - start + 1}"
        )
    if _at(elements, 2) != open_.set_control:
        document.warnings.append(f"SE at segment {position} does not repeat the control number of its ST")
    implementation = _at(st, 3) or open_.version
    document.transactions.append(Transaction(_at(st, 1), implementation, start, index, delimiters))
    open_.transaction = None


def _envelope(document: Document, open_: _Envelope, elements: list[str], position: int) -> None:
    tag, warnings = elements[0], document.warnings
    if tag in ("ISA", "GS") and open_.group is not None:
        warnings.append(f"the functional group at segment {open_.group} has no GE")
        open_.group = None
    if tag == "ISA":
        if open_.interchange is not None:
            warnings.append(f"the interchange at segment {open_.interchange} has no IEA")
        open_.interchange, open_.control, open_.groups = position, _at(elements, 13), 0
    elif tag == "GS":
        open_.group, open_.group_control, open_.version = position, _at(elements, 6), _at(elements, 8)
        open_.groups, open_.sets = open_.groups + 1, 0
    elif tag == "GE":
        if open_.group is None:
            warnings.append(f"GE at segment {position} closes no functional group")
        elif _at(elements, 1) != str(open_.sets) or _at(elements, 2) != open_.group_control:
            warnings.append(
                f"GE at segment {position} counts {_at(elements, 1) or 'no'} transaction sets or names another "
                f"control number; its group has {open_.sets}"
            )
        open_.group, open_.version = None, ""
    elif tag == "IEA":
        if open_.interchange is None:
            warnings.append(f"IEA at segment {position} closes no interchange")
        elif _at(elements, 1) != str(open_.groups) or _at(elements, 2) != open_.control:
            warnings.append(
                f"IEA at segment {position} counts {_at(elements, 1) or 'no'} functional groups or names another "
                f"control number; its interchange has {open_.groups}"
            )
        open_.interchange = None
