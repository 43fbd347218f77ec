"""X12 EDI, the US health care transactions: 835 remittances (remittance.py) and 837P
professional claims (claims.py), both read from their segments (segments.py)."""
