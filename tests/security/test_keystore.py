"""The key store: one data key and one pseudonymisation secret per practice, however many ask
at once; kept only wrapped; unusable with the wrong key-encryption key, a file others may
read, or no key-encryption key at all outside dev mode; shredded one practice at a time."""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest

from lakes import local_settings
from practicelake.crypto.keystore import KeyStore, ShreddedError, init_keys, open_keys
from practicelake.crypto.kms import KeyProviderError, LocalKeyProvider
from practicelake.errors import SettingsError


def key_store(folder: Path, kek: str = "kek.key") -> KeyStore:
    return KeyStore(folder / "keys.json", LocalKeyProvider(folder / kek, create=True))


def encodings(key: bytes) -> list[bytes]:
    return [key, key.hex().encode(), base64.b64encode(key), base64.urlsafe_b64encode(key)]


def test_concurrent_first_use_creates_one_secret(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    start = threading.Barrier(12)
    seen: list[tuple[bytes, bytes]] = []

    def ask() -> None:
        start.wait()
        store = key_store(folder)
        seen.append((store.pseudonym_secret("P001"), store.data_key("P001")))

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 12 and len(set(seen)) == 1
    assert (key_store(folder).pseudonym_secret("P001"), key_store(folder).data_key("P001")) == seen[0]
    assert (folder / "keys.json").stat().st_mode & 0o777 == 0o600
    assert (folder / "kek.key").stat().st_mode & 0o777 == 0o600


def test_practices_and_purposes_get_different_keys(tmp_path: Path) -> None:
    store = key_store(tmp_path)
    keys = [store.pseudonym_secret("P001"), store.pseudonym_secret("P002"), store.data_key("P001")]
    assert len(set(keys)) == 3 and all(len(k) == 32 for k in keys)


def test_key_file_alone_reveals_no_key(tmp_path: Path) -> None:
    store = key_store(tmp_path)
    keys = [store.data_key("P001"), store.pseudonym_secret("P001")]
    stolen = (tmp_path / "keys.json").read_bytes()
    assert not [form for key in keys for form in encodings(key) if form in stolen]


def test_wrong_kek_unwraps_nothing(tmp_path: Path) -> None:
    key_store(tmp_path).data_key("P001")
    (tmp_path / "kek.key").unlink()
    thief = key_store(tmp_path)  # a fresh KEK where the old one was
    with pytest.raises(KeyProviderError, match="practice P001's data_key") as caught:
        thief.data_key("P001")
    assert "fails authentication" in str(caught.value)


def test_wrapped_key_moved_to_another_practice_does_not_unwrap(tmp_path: Path) -> None:
    store = key_store(tmp_path)
    store.data_key("P001")
    store.data_key("P002")
    document = json.loads((tmp_path / "keys.json").read_text())
    practices = document["practices"]
    practices["P002"]["data_key"] = practices["P001"]["data_key"]  # P002 would read P001's objects
    practices["P001"]["pseudonym_secret"] = practices["P001"]["data_key"]
    (tmp_path / "keys.json").write_text(json.dumps(document))
    tampered = key_store(tmp_path)
    with pytest.raises(KeyProviderError, match="fails authentication"):
        tampered.data_key("P002")
    with pytest.raises(KeyProviderError, match="fails authentication"):
        tampered.pseudonym_secret("P001")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_kek_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_store(tmp_path).data_key("P001")
    (tmp_path / "kek.key").chmod(mode)
    with pytest.raises(SettingsError, match="may be read by group or others"):
        key_store(tmp_path).data_key("P001")


def test_key_store_readable_by_others_is_refused(tmp_path: Path) -> None:
    key_store(tmp_path).data_key("P001")
    (tmp_path / "keys.json").chmod(0o644)
    with pytest.raises(SettingsError, match="chmod 600"):
        key_store(tmp_path).data_key("P001")


def test_kek_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    LocalKeyProvider.create_kek(tmp_path / "elsewhere" / "kek.key")
    (tmp_path / "kek.key").symlink_to(tmp_path / "elsewhere" / "kek.key")
    with pytest.raises(SettingsError, match="cannot open the key-encryption key"):
        KeyStore(tmp_path / "keys.json", LocalKeyProvider(tmp_path / "kek.key")).data_key("P001")


def test_damaged_kek_is_refused(tmp_path: Path) -> None:
    LocalKeyProvider.create_kek(tmp_path / "kek.key")
    with (tmp_path / "kek.key").open("ab") as kek:
        kek.write(b"\n")
    with pytest.raises(SettingsError, match="not a 256-bit key"):
        KeyStore(tmp_path / "keys.json", LocalKeyProvider(tmp_path / "kek.key")).data_key("P001")


def test_no_keys_without_init_outside_dev_mode(tmp_path: Path) -> None:
    settings = local_settings(tmp_path, dev_mode=False)
    with pytest.raises(SettingsError, match="run `practicelake init`"):
        open_keys(settings).pseudonym_secret("P001")
    assert not settings.kek_file.exists() and not settings.key_file.exists()


def test_init_creates_the_kek_once_and_then_keys_work(tmp_path: Path) -> None:
    settings = local_settings(tmp_path, dev_mode=False)
    assert "created" in init_keys(settings)
    assert settings.kek_file.stat().st_mode & 0o777 == 0o600
    kek = settings.kek_file.read_bytes()
    secret = open_keys(settings).pseudonym_secret("P001")
    assert "nothing changed" in init_keys(settings)
    assert settings.kek_file.read_bytes() == kek
    assert open_keys(settings).pseudonym_secret("P001") == secret


def test_init_will_not_make_a_new_kek_for_keys_wrapped_by_a_lost_one(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    open_keys(settings).data_key("P001")
    settings.kek_file.unlink()
    with pytest.raises(SettingsError, match="restore it from its backup"):
        init_keys(settings)
    assert not settings.kek_file.exists()


def test_keys_are_never_kept_inside_the_warehouse(tmp_path: Path) -> None:
    inside = tmp_path / "lakehouse" / "kek.key"
    with pytest.raises(SettingsError, match="inside the lakehouse's data"):
        open_keys(local_settings(tmp_path, kek_file=inside))
    cleaned = tmp_path / "elsewhere" / "cleaned"
    in_cleaned = local_settings(tmp_path, cleaned_uri=cleaned.as_uri(), kek_file=cleaned / "kek.key")
    with pytest.raises(SettingsError, match="inside the lakehouse's data"):
        open_keys(in_cleaned)


def test_shred_destroys_one_practice_only(tmp_path: Path) -> None:
    store = key_store(tmp_path)
    shredded = store.data_key("P001"), store.pseudonym_secret("P001")
    kept = store.data_key("P002"), store.pseudonym_secret("P002")
    assert store.shred("P001") is True
    for ask in (store.data_key, store.pseudonym_secret, key_store(tmp_path).data_key):
        with pytest.raises(ShreddedError, match="P001 was offboarded"):
            ask("P001")
    again = key_store(tmp_path)
    assert (again.data_key("P002"), again.pseudonym_secret("P002")) == kept
    document = json.loads((tmp_path / "keys.json").read_text())
    assert "P001" not in document["practices"] and "P001" in document["shredded"]
    assert store.shred("P001") is False  # repeating it is harmless
    assert not [form for key in shredded for form in encodings(key) if form in (tmp_path / "keys.json").read_bytes()]


def test_key_store_of_an_earlier_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"practices": {"P001": {"pseudonym_secret": base64.b64encode(b"k" * 32).decode()}}}))
    path.chmod(0o600)
    with pytest.raises(SettingsError, match="not in the current format"):
        key_store(tmp_path).pseudonym_secret("P001")


def test_messages_carry_no_key_material(tmp_path: Path) -> None:
    store = key_store(tmp_path)
    key = store.data_key("P001")
    kek = (tmp_path / "kek.key").read_bytes()
    (tmp_path / "kek.key").unlink()
    with pytest.raises(KeyProviderError) as caught:
        key_store(tmp_path).data_key("P001")
    message = str(caught.value).encode()
    assert not [form for secret in (key, kek) for form in encodings(secret) if form in message]


def test_audit_key_is_one_per_deployment_and_outlives_offboarding(tmp_path: Path) -> None:
    store = key_store(tmp_path)
    audit_key = store.audit_key()
    assert len(audit_key) == 32 and audit_key not in (store.data_key("P001"), store.pseudonym_secret("P001"))
    store.shred("P001")
    assert key_store(tmp_path).audit_key() == audit_key
    assert not [form for form in encodings(audit_key) if form in (tmp_path / "keys.json").read_bytes()]
