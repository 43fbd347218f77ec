"""The source formats practicelake reads, by the name the manifest records, each loaded from
its module on first use (as pyiceberg loads a FileIO by its class path): a new format is one
module and one line here.

`detect` names a file's format from its content where that is unambiguous; a file no format
claims is read as practicelake's own CSV, whose checks then name what is wrong with it."""

from __future__ import annotations

import importlib
from functools import cache

from practicelake.errors import PracticelakeError
from practicelake.formats.base import Format, Source
from practicelake.formats.mapping import MappedCsv, shipped
from practicelake.settings import cited

PRACTICELAKE_CSV = "practicelake-csv"
FORMATS: dict[str, str] = {
    PRACTICELAKE_CSV: "practicelake.formats.practicelake_csv:FORMAT",
    "x12-835": "practicelake.formats.x12.remittance:FORMAT",
    "x12-837p": "practicelake.formats.x12.claims:FORMAT",
    "fhir-r4": "practicelake.formats.fhir.reader:FORMAT",
    "hl7v2": "practicelake.formats.hl7v2.reader:FORMAT",
}
DETECTED = ("x12-835", "x12-837p", "hl7v2", "fhir-r4")
"""Formats tried by content, in this order; practicelake's CSV is what is left."""


MAPPED = "csv:"
"""A CSV read through a mapping shipped with practicelake (formats/mappings): `csv:synthea`."""


@cache
def get(name: str) -> Format:
    """The format named `name`; PracticelakeError naming the known ones if there is none."""
    if name.startswith(MAPPED):
        return MappedCsv(shipped(name.removeprefix(MAPPED)))
    try:
        module, attribute = FORMATS[name].split(":")
    except KeyError:
        known = ", ".join([*sorted(FORMATS), MAPPED + "<mapping>"])
        raise PracticelakeError(f"unknown format {cited(name)} (expected one of: {known})") from None
    found: Format = getattr(importlib.import_module(module), attribute)
    return found


def detect(source: Source) -> Format:
    """The format whose content `source` surely is; practicelake's CSV when none claims it."""
    for name in DETECTED:
        candidate = get(name)
        if candidate.sniff(source):
            return candidate
    return get(PRACTICELAKE_CSV)
