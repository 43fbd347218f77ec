"""HL7 v2 segments and fields: the encoding characters a header declares, and the values of a
field as the sender meant them (its repetitions, components and subcomponents, escapes decoded).

HL7 v2.8 chapter 2 (2.5 "Message construction rules", 2.7 "Use of escape sequences"):
MSH-1 is the field separator, the character right after the segment name; MSH-2 holds the
component, repetition, escape and subcomponent separators in that order (v2.7 added a fifth,
the truncation character, which is read past). FHS and BHS declare theirs the same way.
A value of `""` is HL7's explicit null: it is read as no value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

MLLP_FRAMING = "\x0b\x1c"  # MLLP start and end blocks, left in some exports
SEGMENT_NAME = re.compile(r"[A-Z][A-Z0-9]{2}")
HEADERS = ("MSH", "FHS", "BHS")


@dataclass(frozen=True)
class Encoding:
    """The separators one header declares, for the segments that follow it."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


DEFAULT = Encoding()


def encoding_of(header: str) -> Encoding | None:
    """The encoding characters of an MSH, FHS or BHS segment; None when they are not four (or
    five) distinct punctuation characters different from the field separator."""
    if len(header) < 8 or header[:3] not in HEADERS:
        return None
    field = header[3]
    if field.isalnum() or field.isspace():
        return None
    end = header.find(field, 4)
    characters = header[4 : end if end >= 0 else len(header)]
    if len(characters) not in (4, 5) or len(set(characters + field)) != len(characters) + 1:
        return None
    if any(c.isalnum() or c.isspace() for c in characters):
        return None
    return Encoding(field, characters[0], characters[1], characters[2], characters[3])


@cache
def _escapes(encoding: Encoding) -> tuple[re.Pattern[str], dict[str, str]]:
    escape = re.escape(encoding.escape)
    pattern = re.compile(f"{escape}([^{escape}]*){escape}")
    named = {
        "F": encoding.field,
        "S": encoding.component,
        "T": encoding.subcomponent,
        "R": encoding.repetition,
        "E": encoding.escape,
        "H": "",  # start and end of highlighting: formatting, not text
        "N": "",
    }
    return pattern, named


def unescape(text: str, encoding: Encoding) -> str:
    """`text` with its escape sequences decoded: \\F\\ \\S\\ \\T\\ \\R\\ \\E\\ as the separators they
    stand for, \\Xhh..\\ as the bytes they spell (UTF-8, else Latin-1). An escape of another
    kind (\\Cxxyy\\ character sets, \\.br\\ formatting) is kept as written."""
    if encoding.escape not in text:
        return text
    pattern, named = _escapes(encoding)

    def decoded(match: re.Match[str]) -> str:
        code = match.group(1)
        if code in named:
            return named[code]
        if code[:1] == "X" and len(code) > 1 and len(code) % 2 == 1:
            try:
                raw = bytes.fromhex(code[1:])
            except ValueError:
                return match.group(0)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw.decode("latin-1")
        return match.group(0)

    return pattern.sub(decoded, text)


@dataclass(frozen=True)
class Segment:
    """One segment, its fields numbered as HL7 numbers them (MSH-1 is the field separator)."""

    name: str
    position: int  # 1-based index of the segment in the file
    fields: tuple[str, ...]  # fields[0] is the name; fields[n] is field n, still encoded
    encoding: Encoding

    @classmethod
    def parse(cls, text: str, position: int, encoding: Encoding) -> Segment:
        parts = text.split(encoding.field)
        if parts[0] in HEADERS:
            # MSH-1 is the separator itself and MSH-2 the encoding characters, never split.
            return cls(parts[0], position, (parts[0], encoding.field, *parts[1:]), encoding)
        return cls(parts[0], position, tuple(parts), encoding)

    def field(self, number: int) -> str:
        """Field `number` as written (encoded); empty when absent."""
        return self.fields[number] if 0 < number < len(self.fields) else ""

    def repetitions(self, number: int) -> list[str]:
        """The repetitions of field `number`, each still encoded."""
        raw = self.field(number)
        return raw.split(self.encoding.repetition) if raw else []

    def value(self, number: int, component: int = 1, subcomponent: int = 1, repetition: int = 1) -> str | None:
        """One value of field `number`, decoded and trimmed; None when it is empty or `""`."""
        repetitions = self.repetitions(number)
        if len(repetitions) < repetition:
            return None
        return self.part(repetitions[repetition - 1], component, subcomponent)

    def part(self, raw: str, component: int = 1, subcomponent: int = 1) -> str | None:
        """A component's subcomponent of one encoded repetition, decoded."""
        components = raw.split(self.encoding.component)
        if len(components) < component:
            return None
        subcomponents = components[component - 1].split(self.encoding.subcomponent)
        if len(subcomponents) < subcomponent:
            return None
        text = unescape(subcomponents[subcomponent - 1], self.encoding).strip()
        return None if text in ("", '""') else text
