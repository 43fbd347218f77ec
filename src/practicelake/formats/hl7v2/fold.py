"""Events of one record (an appointment, a patient) folded into its state: the events are applied
in the order of their message time (Message.time: EVN-2, else MSH-7), file order breaking ties,
each event's values replacing the earlier ones it gives (a value an event leaves empty keeps the
earlier one). The row's position is the MSH of the latest event, and its recorded time
(formats.base.RECORDED) that event's time: a row from another file, whose latest event is later,
replaces it (clean.merge), so that a resend of older messages does not undo newer ones.

A message whose time is not an HL7 date/time cannot be ordered among the others: it is a bad
row, and the record's other events still fold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from practicelake.formats.base import RECORDED, BadRow
from practicelake.formats.hl7v2.messages import Message
from practicelake.formats.hl7v2.times import order_key, parsed, timestamp_text

UNORDERED = "message time EVN-2/MSH-7 is not an HL7 date/time: the event cannot be ordered"


@dataclass(frozen=True)
class Event:
    message: Message
    key: str
    values: dict[str, str | None] = field(default_factory=dict)

    @property
    def trigger(self) -> str:
        return self.message.kind[1]

    @property
    def time(self) -> str | None:
        return self.message.time


State = dict[str, str | None]


def fold(events: list[Event], apply: Callable[[State, Event], None]) -> tuple[list[State], list[int], list[BadRow]]:
    """One state per key, in the order each key first appears; the position of each state's
    latest event; the events that cannot be ordered. `apply` adds what an event means beyond
    its values (a status, a booking time), after the values are applied."""
    by_key: dict[str, list[tuple[datetime, Event]]] = {}
    bad: list[BadRow] = []
    for event in events:
        moment = parsed(event.time)
        if moment is None:
            bad.append(BadRow(event.message.position, UNORDERED, "hl7_time"))
            continue
        by_key.setdefault(event.key, []).append((moment, event))
    states: list[State] = []
    positions: list[int] = []
    for timed in by_key.values():
        keys = order_key([moment for moment, _ in timed])
        ordered = [e for _, _, e in sorted(zip(keys, range(len(timed)), (e for _, e in timed), strict=True))]
        state: State = {}
        for event in ordered:
            state.update({name: value for name, value in event.values.items() if value is not None})
            apply(state, event)
        state[RECORDED] = timestamp_text(ordered[-1].time)
        states.append(state)
        positions.append(ordered[-1].message.position)
    return states, positions, bad
