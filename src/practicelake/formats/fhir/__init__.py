"""FHIR R4 JSON, Bundles and NDJSON bulk exports (format "fhir-r4"): see reader.py."""
