"""Events of one record (an appointment, a patient) folded into its state: the events are applied
in the order of their message time (EVN-2, else MSH-7; HL7 v2.8 2.14.9.7 and 3.4.1.2), file order
breaking ties, each event's values replacing the earlier ones it gives (a value an event leaves
empty keeps the earlier one). The row's position is the MSH of the latest event.

A message whose time is not an HL7 date/time cannot be ordered among the others: it is a bad
row, and the record's other events still fold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from practicelake.formats.base import BadRow
from practicelake.formats.hl7v2.messages import Message
from practicelake.formats.hl7v2.times import order_key, parsed

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
        states.append(state)
        positions.append(ordered[-1].message.position)
    return states, positions, bad
