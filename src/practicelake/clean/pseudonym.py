"""Keyed pseudonyms: the cleaned zone knows a patient only as HMAC-SHA256(practice secret, MRN).

The same patient gets the same pseudonym in every batch, so returning patients are
recognised; without the practice's secret the MRN cannot be recovered or confirmed.
"""

from __future__ import annotations

import hmac
import threading
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
    people, with two pseudonyms under two secrets. A lookup only searches the practices of
    the rows at hand, so its cost follows the chunk, not the deployment. Parts of a chunk
    are pseudonymised in parallel threads: two may learn the same patient at once, which
    only stores the same pseudonym twice.
    """

    def __init__(self, secret_of: Callable[[str], bytes]) -> None:
        self._secret_of = secret_of
        self._secrets: dict[str, bytes] = {}
        self._known: dict[str, tuple[list[pa.Array], list[pa.Array]]] = {}  # practice: (pairs, pseudonyms)
        self._lock = threading.Lock()

    def _secret(self, practice_id: str) -> bytes:
        if practice_id not in self._secrets:
            with self._lock:
                if practice_id not in self._secrets:
                    self._secrets[practice_id] = self._secret_of(practice_id)
        return self._secrets[practice_id]

    def _learn(self, unknown: pa.Array) -> None:
        learned: dict[str, tuple[list[str], list[str]]] = {}
        for pair in unknown.to_pylist():
            practice_id, _, patient_id = pair.partition(SEPARATOR)
            pairs, values = learned.setdefault(practice_id, ([], []))
            pairs.append(pair)
            values.append(pseudonym(self._secret(practice_id), patient_id))
        with self._lock:
            for practice_id, (pairs, values) in learned.items():
                known_pairs, known_values = self._known.setdefault(practice_id, ([], []))
                known_pairs.append(pa.array(pairs, pa.string()))
                known_values.append(pa.array(values, pa.string()))

    def _lookup(self, practices: list[str]) -> tuple[pa.Array, pa.Array]:
        with self._lock:
            pairs = [a for p in practices for a in self._known.get(p, ([], []))[0]]
            values = [a for p in practices for a in self._known.get(p, ([], []))[1]]
        empty = pa.array([], pa.string())
        return pa.concat_arrays(pairs or [empty]), pa.concat_arrays(values or [empty])

    def replace(self, practice_ids: pa.ChunkedArray, patient_ids: pa.ChunkedArray) -> pa.ChunkedArray:
        """The pseudonym of each (practice, patient id); NULL stays NULL."""
        practices = pc.unique(practice_ids).to_pylist()
        pairs = pc.binary_join_element_wise(practice_ids, patient_ids, SEPARATOR)
        known_pairs, known_values = self._lookup(practices)
        found = pc.index_in(pairs, known_pairs)
        unknown = pc.unique(pairs.filter(pc.and_(pc.is_null(found), pc.is_valid(pairs))))
        if len(unknown):
            self._learn(unknown)
            known_pairs, known_values = self._lookup(practices)
            found = pc.index_in(pairs, known_pairs)
        return pc.take(known_values, found)
