"""The curated zone: KPI tables built by SQL models over the cleaned zone."""
