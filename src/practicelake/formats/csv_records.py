"""Record-level structure of a CSV export that a parser would get wrong without a word: line
ends, a quoted field left open, a last row cut short.

Quotes are read as pyarrow (the transform's parser) and Python's csv read them: a quote opens a
quoted field only at the start of a field; inside one, `""` is a quote and a lone `"` closes
it; a quote anywhere else (`5'10"`) is an ordinary character. Line numbers count LF line ends,
the header being line 1.
"""

from __future__ import annotations

import re
from collections import deque

from practicelake.errors import MalformedFileError

# A quoted field: an opening quote at a field start (the text's start, or after a comma or an
# LF), then to its closing quote, or to the end of the text when it never closes.
QUOTED = re.compile(r'"(?<![^,\n]")(?:[^"]++|"")*+(?P<closed>"?)')
BARE_CR = re.compile(r"\r(?!\n)")
TAIL = 256  # quoted fields remembered from the end of the text, to find where the last row starts


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def check_records(text: str, width: int) -> None:
    """MalformedFileError for a file cut short: no final newline, and a last row that ends
    inside a quoted field or has fewer than `width` fields.

    The last row is taken as complete when it has all its fields, newline or not: many
    exporters omit the final newline, and a value cut inside the last field cannot be told
    from a short one here; the transform checks that value against its contract (type,
    format, allowed values) and quarantines the row if it no longer holds. Line ends are
    checked first (check_line_ends)."""
    # A file that ends with its newline is not cut short. A quote left open in it costs its own
    # line only: the transform reads the file line by line then, and quarantines that line.
    if text.endswith("\n"):
        return
    quoted = deque(QUOTED.finditer(text), maxlen=TAIL) if '"' in text else deque[re.Match[str]]()
    if quoted and not quoted[-1]["closed"]:
        line = line_of(text, quoted[-1].start())
        raise MalformedFileError(f"truncated: line {line} ends inside a quoted field and the file has no final newline")
    start = last_row_start(text, quoted)
    fields = QUOTED.sub("", text[start:]).count(",") + 1
    if fields < width:
        raise MalformedFileError(
            f"truncated: the last row (line {line_of(text, start)}) has {fields} of {width} fields "
            "and the file has no final newline"
        )


def check_line_ends(text: str) -> None:
    """Line ends are LF or CRLF, mixed or not; a CR alone ends a line for some parsers and not
    for others, so a row would be counted differently (inside a quoted field it is data)."""
    carriage_returns = text.count("\r")
    if not carriage_returns or carriage_returns == text.count("\r\n"):
        return
    offset = first_bare_cr(text)
    if offset is None:
        return
    if "\n" not in text:
        raise MalformedFileError("line ends are CR only (old Mac format): convert to LF or CRLF")
    raise MalformedFileError(
        f"line {line_of(text, offset)}: a line ends with CR alone (old Mac format): convert to LF or CRLF"
    )


def first_bare_cr(text: str) -> int | None:
    """The offset of the first CR not followed by LF outside a quoted field."""
    fields = QUOTED.finditer(text)
    field = next(fields, None)
    for cr in BARE_CR.finditer(text):
        while field is not None and field.end() <= cr.start():
            field = next(fields, None)
        if field is None or cr.start() < field.start():
            return cr.start()
    return None


def last_row_start(text: str, quoted: deque[re.Match[str]]) -> int:
    """Where the last row begins: after the last LF that is not inside a quoted field."""
    newline = text.rfind("\n")
    for field in reversed(quoted):
        if field.end() <= newline:
            return newline + 1
        if field.start() < newline:  # this LF is data inside the field
            newline = text.rfind("\n", 0, field.start())
    if len(quoted) == quoted.maxlen:  # more quoted fields than remembered: read them all
        return last_row_start(text, deque(QUOTED.finditer(text)))
    return newline + 1


UNCLOSED_DETAIL = "a quoted field does not close on its line: it would swallow the records after it"


def balanced_pattern(delimiter: str = ",") -> re.Pattern[bytes]:
    """A line whose quotes all close on it: each field empty, unquoted (it may hold a quote after
    its first character, read as is), or quoted from its first to its last character."""
    d = re.escape(delimiter.encode())
    field = rb'(?:"(?:[^"]|"")*"|[^"' + d + rb"][^" + d + rb"]*|)"
    return re.compile(field + rb"(?:" + d + field + rb")*")


def by_line(data: bytes, delimiter: str = ",") -> tuple[list[tuple[int, bytes]], bytes, list[int]]:
    """Line by line: the lines whose quotes do not close (number, line), the other record lines
    as one CSV body (header first), and the line number of each record in that body. Blank
    lines are no records."""
    balanced = balanced_pattern(delimiter)
    unclosed: list[tuple[int, bytes]] = []
    kept: list[bytes] = []
    numbers: list[int] = []
    lines = data.splitlines()
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        if balanced.fullmatch(line) is None:
            unclosed.append((number, line))
        else:
            kept.append(line)
            numbers.append(number)
    return unclosed, b"\n".join([lines[0], *kept]) + b"\n", numbers
