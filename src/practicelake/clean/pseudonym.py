"""Keyed pseudonyms: the cleaned zone knows a patient only as HMAC-SHA256(practice secret, MRN).

The same patient gets the same pseudonym in every batch, so returning patients are
recognised; without the practice's secret the MRN cannot be recovered or confirmed.
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_HEX_CHARS = 32  # 128 bits


def pseudonym(secret: bytes, patient_id: str) -> str:
    return hmac.new(secret, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]


class Pseudonyms:
    """One practice's pseudonyms, each computed once per run (patients recur in every file)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._known: dict[str, str] = {}

    def of(self, patient_id: str) -> str:
        value = self._known.get(patient_id)
        if value is None:
            value = self._known[patient_id] = pseudonym(self._secret, patient_id)
        return value
