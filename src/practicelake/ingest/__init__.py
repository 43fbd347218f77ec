"""Ingest: exports -> raw zone (byte-exact, write-once, content-addressed) + manifest."""

from practicelake.ingest.receive import IngestReport, export_files, ingest
from practicelake.ingest.raw import RawZone

__all__ = ["IngestReport", "RawZone", "export_files", "ingest"]
