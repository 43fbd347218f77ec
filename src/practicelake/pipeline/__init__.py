"""The batch pipeline: ingest -> transform -> curate over one lakehouse, and offboarding,
which reverses it for one practice."""

from practicelake.pipeline.lakehouse import Lakehouse

__all__ = ["Lakehouse"]
