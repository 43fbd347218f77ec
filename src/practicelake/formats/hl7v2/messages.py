"""An HL7 v2 file as its messages: each MSH opens a message that runs to the next MSH (or to a
batch segment), optionally inside FHS/BHS ... BTS/FTS batch envelopes (HL7 v2.8 2.10.3).

Segments end with CR, as the standard says, or with LF or CRLF as exports often write them,
mixed within one file too; blank lines and MLLP framing characters are read past. Each MSH
declares the encoding characters of its own message. Positions are 1-based segment indexes in
the file, blank lines not counted. The bytes are UTF-8, else Latin-1 (ISO 8859/1, the usual
MSH-18 of exports that are not UTF-8): every byte decodes, so no segment is lost to decoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from practicelake.errors import MalformedFileError
from practicelake.formats.hl7v2.segments import DEFAULT, MLLP_FRAMING, SEGMENT_NAME, Encoding, Segment, encoding_of

BOM = "\ufeff"
LINE_END = re.compile(r"\r\n|\r|\n")
ENVELOPE = ("FHS", "BHS", "BTS", "FTS")
_PADDING = " " + MLLP_FRAMING


@dataclass(frozen=True)
class Message:
    header: Segment  # its MSH
    segments: tuple[Segment, ...]  # the segments after its MSH
    readable: bool  # whether its MSH declares valid encoding characters

    @property
    def position(self) -> int:
        return self.header.position

    @property
    def kind(self) -> tuple[str, str]:
        """MSH-9 message code and trigger event, e.g. ("SIU", "S12"), upper case."""
        if self.readable:
            return ((self.header.value(9) or "").upper(), (self.header.value(9, 2) or "").upper())
        # Unreadable encoding characters: MSH-9 read as its words, so that the message can
        # still be counted as a bad record of the dataset it belongs to.
        words = [w for w in re.split(r"[^A-Za-z0-9]+", self.header.field(9)) if w]
        return ((words[0] if words else "").upper(), (words[1] if len(words) > 1 else "").upper())

    @property
    def name(self) -> str:
        code, event = self.kind
        return f"{code or '?'}^{event or '?'}"

    def first(self, name: str) -> Segment | None:
        return next((s for s in self.segments if s.name == name), None)

    def every(self, name: str) -> list[Segment]:
        return [s for s in self.segments if s.name == name]

    @property
    def control_id(self) -> str | None:
        return self.header.value(10)

    @property
    def time(self) -> str | None:
        """When the event was recorded: EVN-2 where the message has it, else MSH-7.

        HL7 v2.5: EVN-2 Recorded Date/Time (3.4.1.2) is when the transaction was entered in the
        sending system; MSH-7 Date/Time of Message (2.15.9.7) is when that system created the
        message. The order of a record's states is the order its system entered them, which
        EVN-2 keeps even when the message is built again later (a resend, a replayed queue, a
        batch interface). ADT and DFT messages carry an EVN; v2.5's SIU structures have none
        (some senders add one), so an SIU's time is its MSH-7, the closest the standard gives.
        Not EVN-6 Event Occurred (3.4.1.6): when the event happened in the world, which an entry
        made later may date back; nor EVN-3, a planned time. A time without an offset is the
        sender's wall time, as every other time of the message is read (v2.5 lets MSH-7's offset
        stand for the message's, which exports seldom honour, and practicelake does not)."""
        event = self.first("EVN")
        recorded = event.value(2) if event is not None else None
        return recorded or self.header.value(7)


@dataclass(frozen=True)
class HL7File:
    messages: tuple[Message, ...]
    segment_count: int
    stray: int  # segments outside any message (batch envelopes aside)

    def notes(self) -> list[str]:
        found = []
        if self.stray:
            found.append(f"{self.stray} segment(s) outside any message (before the first MSH) read past")
        unreadable = [m.position for m in self.messages if not m.readable]
        if unreadable:
            found.append(
                f"{len(unreadable)} MSH segment(s) without valid encoding characters (first at segment "
                f"{unreadable[0]}): their messages are bad rows"
            )
        return found


def segment_texts(data: bytes) -> list[str]:
    """The segments of the file as text, in order, blank lines and framing left out."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    text = text.removeprefix(BOM)
    stripped = (line.strip(_PADDING) for line in LINE_END.split(text))
    return [line for line in stripped if line]


def _name(text: str, encoding: Encoding) -> str:
    name = text.split(encoding.field, 1)[0]
    return name if SEGMENT_NAME.fullmatch(name) else "?"


def read_file(data: bytes) -> HL7File:
    """The file's messages; MalformedFileError when it holds no MSH segment."""
    messages: list[Message] = []
    header: Segment | None = None
    readable = False
    body: list[Segment] = []
    encoding = DEFAULT
    stray = 0
    texts = segment_texts(data)
    for position, text in enumerate(texts, start=1):
        name = text[:3]
        if name in ("MSH", "FHS", "BHS") and (len(text) == 3 or not text[3].isalnum()):
            declared = encoding_of(text)
            if header is not None:
                messages.append(Message(header, tuple(body), readable))
                header, body = None, []
            encoding = declared or Encoding(field=text[3] if len(text) > 3 else "|")
            if name == "MSH":
                header, readable = Segment.parse(text, position, encoding), declared is not None
            continue
        segment_name = _name(text, encoding)
        if segment_name in ("BTS", "FTS"):
            if header is not None:
                messages.append(Message(header, tuple(body), readable))
                header, body = None, []
            continue
        if header is None:
            stray += 1
            continue
        segment = Segment.parse(text, position, encoding)
        body.append(Segment(segment_name, position, segment.fields, encoding))
    if header is not None:
        messages.append(Message(header, tuple(body), readable))
    if not messages:
        raise MalformedFileError("no MSH segment: not an HL7 v2 message")
    return HL7File(tuple(messages), len(texts), stray)
