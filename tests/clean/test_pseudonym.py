"""Pseudonyms: the fast keyed path gives exactly HMAC-SHA256, per practice, NULL kept."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest

from practicelake.clean.pseudonym import Pseudonyms, keyed, pseudonym

IDS = ["MRN0001", "", "é-ü 42", "x" * 300, "a\tb", "0", "MRN0001 "]


@pytest.mark.parametrize("secret_bytes", [1, 16, 32, 63, 64, 65, 200])
def test_keyed_equals_hmac_for_any_secret_length(secret_bytes: int) -> None:
    rng = random.Random(secret_bytes)
    secret = rng.randbytes(secret_bytes)
    of = keyed(secret)
    ids = IDS + ["".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 40))) for _ in range(200)]
    assert [of(i) for i in ids] == [pseudonym(secret, i) for i in ids]


def test_replace_uses_each_practice_secret_and_keeps_null() -> None:
    secrets = {"P1": b"1" * 32, "P2": b"2" * 32}
    pseudonyms = Pseudonyms(secrets.__getitem__)
    practices = pa.chunked_array([["P1", "P2", "P1", "P2", "P1"], ["P2"]])
    patients = pa.chunked_array([["M1", "M1", None, "M2", "M1"], ["M1"]])
    got = pseudonyms.replace(practices, patients).to_pylist()
    p1, p2 = pseudonym(secrets["P1"], "M1"), pseudonym(secrets["P2"], "M1")
    assert got == [p1, p2, None, pseudonym(secrets["P2"], "M2"), p1, p2]
    assert p1 != p2  # the same MRN in two practices is two people
    # Known pairs are looked up, not learned again: same answers on a second pass.
    assert pseudonyms.replace(practices, patients).to_pylist() == got


def test_parallel_parts_agree() -> None:
    secret = b"s" * 32
    pseudonyms = Pseudonyms(lambda _: secret)
    ids = [f"M{i % 700}" for i in range(5000)]
    parts = [ids[i : i + 1000] for i in range(0, 5000, 1000)]

    def run(part: list[str]) -> list[str | None]:
        practices = pa.chunked_array([pa.repeat("P1", len(part))])
        return pseudonyms.replace(practices, pa.chunked_array([part])).to_pylist()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, parts))
    assert [v for r in results for v in r] == [pseudonym(secret, i) for i in ids]
