"""The key store gives a practice exactly one pseudonymisation secret, however many ask at once."""

from __future__ import annotations

import threading
from pathlib import Path

from practicelake.security.keystore import KeyStore


def test_concurrent_first_use_creates_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keys.json"
    start = threading.Barrier(12)
    seen: list[bytes] = []

    def ask() -> None:
        start.wait()
        seen.append(KeyStore(path).pseudonym_secret("P001"))

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 12 and len(set(seen)) == 1
    assert KeyStore(path).pseudonym_secret("P001") == seen[0]
    assert path.stat().st_mode & 0o777 == 0o600


def test_practices_get_different_secrets(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys.json")
    assert store.pseudonym_secret("P001") != store.pseudonym_secret("P002")
    assert len(store.pseudonym_secret("P001")) == 32
