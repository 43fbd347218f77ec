"""AES-256-GCM sealing of one object under one key, with a versioned header.

Layout: MAGIC (4 bytes) | version (1 byte) | nonce (12 random bytes) | ciphertext | tag (16 bytes).
The header and the caller's associated data (for a raw object: its object key, which names
the practice) are authenticated, so an object copied to another path, or a header changed,
fails like a flipped byte does. The whole object is sealed and opened in memory in one call:
no plaintext is released before its tag has been checked.

Nonces are random: NIST SP 800-38D allows 2^32 messages per key that way, far more raw
files than a practice sends under its one data key.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"PLKE"
VERSION = 1
HEADER = MAGIC + bytes([VERSION])
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = len(HEADER) + NONCE_BYTES + TAG_BYTES


class EnvelopeError(ValueError):
    """The sealed bytes cannot be opened; the message says why, never with key material."""


def seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError("an AES-256 key is 32 bytes")
    nonce = os.urandom(NONCE_BYTES)
    return b"".join((HEADER, nonce, AESGCM(key).encrypt(nonce, plaintext, HEADER + associated)))


def unseal(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    """The plaintext, once the header, `associated` and every byte are authenticated."""
    if not sealed.startswith(MAGIC):
        raise EnvelopeError("has no encryption header: it is not a sealed object, or its first bytes were altered")
    if len(sealed) > len(MAGIC) and sealed[len(MAGIC)] != VERSION:
        raise EnvelopeError(f"has unknown encryption format version {sealed[len(MAGIC)]}")
    if len(sealed) < OVERHEAD:
        raise EnvelopeError(f"is truncated: {len(sealed)} bytes, shorter than the {OVERHEAD}-byte envelope")
    nonce = sealed[len(HEADER) : len(HEADER) + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, memoryview(sealed)[len(HEADER) + NONCE_BYTES :], HEADER + associated)
    except InvalidTag:
        raise EnvelopeError(
            "fails authentication: altered or truncated, copied from another path, or sealed under another key"
        ) from None
