"""The object store contract, on a local folder and on S3 over HTTP."""

from __future__ import annotations

import threading

import pytest

from practicelake.errors import StorageError
from practicelake.settings import Settings
from practicelake.storage import open_store


def test_put_new_creates_once_and_never_replaces(settings: Settings) -> None:
    store = open_store(settings)
    assert store.put_new("raw/a.csv", b"first") is True
    assert store.put_new("raw/a.csv", b"second") is False
    assert store.get("raw/a.csv") == b"first"


def test_concurrent_create_only_one_writer_wins(settings: Settings) -> None:
    store = open_store(settings)
    results: list[bool] = []

    def write(i: int) -> None:
        results.append(store.put_new("raw/race.csv", f"writer {i}".encode()))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    assert store.get("raw/race.csv").startswith(b"writer ")


def test_list_exists_delete(settings: Settings) -> None:
    store = open_store(settings)
    for key in ("raw/x/2.csv", "raw/x/1.csv", "raw/y/3.csv", "other/4.csv"):
        store.put_new(key, b"data")
    assert list(store.list("raw/x/")) == ["raw/x/1.csv", "raw/x/2.csv"]
    assert list(store.list("raw/")) == ["raw/x/1.csv", "raw/x/2.csv", "raw/y/3.csv"]
    assert store.exists("other/4.csv") and not store.exists("other/5.csv")
    store.delete("other/4.csv")
    assert not store.exists("other/4.csv")


def test_missing_object_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(StorageError, match=r"nope\.csv"):
        open_store(settings).get("raw/nope.csv")


def test_keys_cannot_escape_the_store(settings: Settings) -> None:
    with pytest.raises(StorageError, match="leaves the store"):
        open_store(settings).put_new("../escape.csv", b"x")


def test_local_write_leaves_no_partial_object(local: Settings) -> None:
    store = open_store(local)
    store.put_new("raw/big.csv", b"x" * 1_000_000)
    root = local.warehouse_uri.removeprefix("file://")
    from pathlib import Path

    names = [p.name for p in Path(root).rglob("*")]
    assert not [n for n in names if n.startswith(".tmp-")]
    assert list(store.list("raw/")) == ["raw/big.csv"]


def test_replace_and_delete_only_at_the_version_read(settings: Settings) -> None:
    store = open_store(settings)
    assert store.get_versioned("locks/x.json") is None
    assert store.replace_version("locks/x.json", b"new", "any") is None
    store.put_new("locks/x.json", b"first")
    found = store.get_versioned("locks/x.json")
    assert found is not None and found[0] == b"first"
    second = store.replace_version("locks/x.json", b"second", found[1])
    assert second is not None and second != found[1]
    assert store.replace_version("locks/x.json", b"stale", found[1]) is None
    assert store.delete_version("locks/x.json", found[1]) is False
    assert store.get("locks/x.json") == b"second"
    assert store.delete_version("locks/x.json", second) is True
    assert not store.exists("locks/x.json")


def test_concurrent_replace_of_one_version_only_one_wins(settings: Settings) -> None:
    store = open_store(settings)
    store.put_new("locks/race.json", b"start")
    found = store.get_versioned("locks/race.json")
    assert found is not None
    start = threading.Barrier(6)
    results: list[str | None] = []

    def replace(i: int) -> None:
        start.wait()
        results.append(store.replace_version("locks/race.json", f"writer {i}".encode(), found[1]))

    threads = [threading.Thread(target=replace, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and len([r for r in results if r]) == 1
    assert store.get("locks/race.json").startswith(b"writer ")


def test_taking_the_writer_lock_removes_abandoned_temporary_files(local: Settings) -> None:
    import os
    import time
    from pathlib import Path

    from practicelake.lakehouse.lock import writer_lock

    store = open_store(local)
    store.put_new("raw/a.csv", b"data")
    folder = Path(local.warehouse_uri.removeprefix("file://")) / "raw"
    abandoned, in_progress = folder / ".tmp-4242-1700000000-abc", folder / f".tmp-{os.getpid()}-{int(time.time())}-def"
    abandoned.write_bytes(b"half")
    in_progress.write_bytes(b"being written")
    an_hour_ago = time.time() - 3600
    os.utime(abandoned, (an_hour_ago, an_hour_ago))
    with writer_lock(store, kind="transform"):
        assert not abandoned.exists() and in_progress.exists()
    assert list(store.list("raw/")) == ["raw/a.csv"]
