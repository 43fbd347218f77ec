"""Whether a resource is a valid FHIR R4 resource of its type, by the `fhir.resources.R4B` models.

fhir.resources 8.3.0 defaults to R5, which rejects R4 Appointments (R5 renamed and retyped
their elements); no R4 package ships, and R4B (4.3.0) keeps R4's structure for every resource
practicelake maps. The models only judge; the values are read from the JSON itself.

A time without an offset in an instant or dateTime is invalid R4 (2.24.0.1: "If hours and
minutes are specified, a time zone SHALL be populated"), but real exports write them: such a
value is read as the practice's wall time, and the file carries a warning, instead of
quarantining the record. A reason names where the resource is wrong and how (the pydantic
error's location and type), never the value.

Validation is most of the cost of reading: about 0.4 ms per Appointment, so an NDJSON bulk
export of 100,000 Appointments (163 MB) reads in about 47 s (2,100 lines/s; JSON parsing is
10 s of it). Only resources of the types the dataset read maps are validated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import BaseModel, ValidationError

from practicelake.formats.fhir.datatypes import Resource

NAIVE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")
SHOWN_ERRORS = 3


@dataclass(frozen=True)
class Verdict:
    error: str | None  # why the resource is not valid R4, or None
    naive_times: bool = False  # valid but for times without an offset


@cache
def _model(resource_type: str) -> type[BaseModel]:
    model: type[BaseModel] = get_fhir_model_class(resource_type)
    return model


def _where(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(resource)"


def _naive(error: Any) -> bool:
    value = error.get("input")
    return error.get("type") == "value_error" and isinstance(value, str) and NAIVE_TIME.fullmatch(value) is not None


def validate(resource: Resource) -> Verdict:
    kind = str(resource["resourceType"])
    try:
        _model(kind).model_validate(resource)
    except ValidationError as invalid:
        errors = [e for e in invalid.errors(include_url=False, include_context=False) if not _naive(e)]
        if not errors:
            return Verdict(None, naive_times=True)
        shown = "; ".join(f"{_where(tuple(e['loc']))} ({e['type']})" for e in errors[:SHOWN_ERRORS])
        more = f" and {len(errors) - SHOWN_ERRORS} more" if len(errors) > SHOWN_ERRORS else ""
        return Verdict(f"not a valid R4 {kind}: {shown}{more}")
    except (ValueError, TypeError, RecursionError):  # a value pydantic's validators could not even read
        return Verdict(f"not a valid R4 {kind}")
    return Verdict(None)
