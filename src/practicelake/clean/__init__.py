"""raw -> cleaned: parse, check against the contracts, pseudonymise, quarantine, merge."""
