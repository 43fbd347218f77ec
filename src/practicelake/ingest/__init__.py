"""Ingest: exports -> raw zone (byte-exact, write-once, content-addressed) + manifest."""

from practicelake.ingest.raw import RawZone
from practicelake.ingest.receive import IngestReport, ingest
from practicelake.ingest.scan import Skipped, export_files

__all__ = ["IngestReport", "RawZone", "Skipped", "export_files", "ingest"]
