"""Keyed pseudonyms: the cleaned zone knows a patient only as HMAC-SHA256(practice secret, MRN).

The same patient gets the same pseudonym in every batch, so returning patients are
recognised; without the practice's secret the MRN cannot be recovered or confirmed.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

PSEUDONYM_HEX_CHARS = 32  # 128 bits
SEPARATOR = "\x1f"  # cannot occur in a CSV field the contracts accept as an id


def pseudonym(secret: bytes, patient_id: str) -> str:
    return hmac.digest(secret, patient_id.encode("utf-8"), "sha256").hex()[:PSEUDONYM_HEX_CHARS]


class Pseudonyms:
    """The run's pseudonyms, each computed once (a patient recurs in every file and entity).

    Patients are looked up by (practice, patient id): the same MRN in two practices is two
    people, with two pseudonyms under two secrets.
    """

    def __init__(self, secret_of: Callable[[str], bytes]) -> None:
        self._secret_of = secret_of
        self._secrets: dict[str, bytes] = {}
        self._known_keys = pa.array([], pa.string())
        self._known_values = pa.array([], pa.string())

    def _secret(self, practice_id: str) -> bytes:
        if practice_id not in self._secrets:
            self._secrets[practice_id] = self._secret_of(practice_id)
        return self._secrets[practice_id]

    def replace(self, practice_ids: pa.ChunkedArray, patient_ids: pa.ChunkedArray) -> pa.ChunkedArray:
        """The pseudonym of each (practice, patient id); NULL stays NULL."""
        pairs = pc.binary_join_element_wise(practice_ids, patient_ids, SEPARATOR)
        found = pc.index_in(pairs, self._known_keys)
        unknown = pc.unique(pairs.filter(pc.and_(pc.is_null(found), pc.is_valid(pairs))))
        if len(unknown):
            values = []
            for pair in unknown.to_pylist():
                practice_id, _, patient_id = pair.partition(SEPARATOR)
                values.append(pseudonym(self._secret(practice_id), patient_id))
            self._known_keys = pa.concat_arrays([self._known_keys, unknown])
            self._known_values = pa.concat_arrays([self._known_values, pa.array(values, pa.string())])
            found = pc.index_in(pairs, self._known_keys)
        return pc.take(self._known_values, found)
