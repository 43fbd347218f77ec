"""Ingest: exports -> raw zone (byte-exact, write-once, content-addressed) + manifest."""

from practicelake.ingest.raw import RawZone
from practicelake.ingest.receive import IngestReport, export_files, ingest

__all__ = ["IngestReport", "RawZone", "export_files", "ingest"]
