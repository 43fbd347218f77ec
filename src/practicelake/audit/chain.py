"""Checking an audit log's records in order: the chain of hashes, the signatures, the
sequence numbers and the anchor (audit.log's verify), and what it finds wrong."""

from __future__ import annotations

from dataclasses import dataclass

from practicelake.audit.record import GENESIS, check_record


@dataclass(frozen=True)
class Problem:
    line: int | None
    """The line of the log (from 1); None: the end of the log, or the anchor itself."""
    seq: int | None
    message: str

    @property
    def location(self) -> str:
        if self.line is None:
            return "end of log"
        return f"line {self.line}" + (f" (record {self.seq})" if self.seq is not None else "")

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class Verification:
    records: int
    problems: tuple[Problem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


class ChainCheck:
    """Checks lines in order. After a wrong line it goes on from that line's own number and
    hash, so that one deleted record is one problem, not one for every record after it."""

    def __init__(self, key: bytes, anchor_seq: int | None) -> None:
        self.key = key
        self.anchor_seq = anchor_seq
        self.anchored: tuple[int, str] | None = None
        self.expected_seq = 1
        self.prev: str | None = GENESIS
        self.records = 0
        self.lines = 0

    def check(self, number: int, raw: bytes) -> Problem | None:
        self.lines = number
        if not raw.endswith(b"\n"):
            return Problem(number, None, "incomplete line (no line end): an append was cut short or the file edited")
        loaded, message = check_record(raw, self.key)
        if loaded is None:
            self.expected_seq, self.prev = self.expected_seq + 1, None
            return Problem(number, None, message or "not an audit record")
        seq, record_hash = loaded["seq"], loaded["hash"]
        if seq != self.expected_seq:
            message = _sequence_message(seq, self.expected_seq)
        elif self.prev is not None and loaded["prev"] != self.prev:
            message = "does not follow the record before it (prev hash differs): a record was inserted or moved here"
        self.records += 1
        if seq == self.anchor_seq and self.anchored is None:
            self.anchored = (number, record_hash)
        self.expected_seq, self.prev = seq + 1, record_hash
        return Problem(number, seq, message) if message else None

    def end(self, anchor: tuple[int, str] | None, anchor_exists: bool) -> list[Problem]:
        last = self.expected_seq - 1
        if anchor is None:
            if anchor_exists or not self.records:
                return []
            return [Problem(None, None, "the anchor file is missing: records may have been cut off the end")]
        anchor_seq, anchor_hash = anchor
        if anchor_seq > last:
            cut = f"record {anchor_seq}" if anchor_seq == last + 1 else f"records {last + 1}..{anchor_seq}"
            ends = f"the log ends at record {last} (line {self.lines})" if self.lines else "the log is empty"
            return [Problem(None, anchor_seq, f"{ends} but its anchor holds record {anchor_seq}: {cut} cut off")]
        if self.anchored is None or self.anchored[1] != anchor_hash:
            line = self.anchored[0] if self.anchored else None
            return [Problem(line, anchor_seq, "is not the record the anchor holds: the end of the log was rewritten")]
        # An anchor behind the log's end is an append cut short between its two writes: the
        # records after it are signed, so only a holder of the key wrote them.
        return []


def _sequence_message(seq: int, expected: int) -> str:
    if seq > expected:
        gone = f"record {expected}" if seq == expected + 1 else f"records {expected}..{seq - 1}"
        return f"sequence number {seq}, expected {expected}: {gone} missing here (deleted or moved)"
    return f"sequence number {seq}, expected {expected}: a record repeated or moved"
