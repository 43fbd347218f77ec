"""CSV exports of practice-management systems, read through a declarative mapping (TOML): see
docs/mappings.md, and formats/mappings/ for the mappings shipped."""

from practicelake.formats.mapping.model import Mapping, MappingError, load_mapping
from practicelake.formats.mapping.reader import MappedCsv, apply_values, shipped

__all__ = ["MappedCsv", "Mapping", "MappingError", "apply_values", "load_mapping", "shipped"]
