"""The Iceberg side of the lakehouse: catalog, table schemas, run journal."""
