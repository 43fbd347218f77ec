"""Keys and encryption: the key store, key providers (local file, KMS), envelope encryption of raw objects, TLS."""
