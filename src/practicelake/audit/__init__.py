"""The audit log: a hash-chained, keyed record of every data access and administrative action."""
