"""Raw objects are encrypted at rest, and anything but the object as written is refused with
a message naming it, never returned as data: on the local and the S3 backend."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from practicelake.crypto.envelope import HEADER, NONCE_BYTES
from practicelake.crypto.keystore import ShreddedError, open_keys
from practicelake.crypto.kms import KeyProviderError
from practicelake.errors import IntegrityError
from practicelake.ingest.raw import RawZone
from practicelake.settings import Settings
from practicelake.storage import open_store

EXPORT = b"practice_id,patient_id,first_name,last_name\r\nP001,MRN-7,Thandiwe,Nkosi\r\n" * 50
SHA = hashlib.sha256(EXPORT).hexdigest()


def raw_zone(settings: Settings) -> RawZone:
    return RawZone(open_store(settings), open_keys(settings))


def stored(practice_id: str = "P001", dataset: str = "patients") -> str:
    return RawZone.object_key(practice_id, "pms", dataset, date(2024, 1, 31), SHA)


def replace_object(raw: RawZone, key: str, data: bytes) -> None:
    """What someone with write access to the bucket or folder could do."""
    raw.store.delete(key)
    assert raw.store.put_new(key, data)


def test_round_trip_and_nothing_readable_at_rest(settings: Settings) -> None:
    raw = raw_zone(settings)
    key = stored()
    assert raw.write(key, EXPORT) is True
    at_rest = raw.store.get(key)
    assert at_rest.startswith(HEADER) and len(at_rest) == len(EXPORT) + len(HEADER) + NONCE_BYTES + 16
    assert b"Nkosi" not in at_rest and b"MRN-7" not in at_rest
    assert raw.read(key, SHA) == EXPORT
    assert raw_zone(settings).read(key, SHA) == EXPORT  # a new process, the same keys
    assert raw.write(key, EXPORT) is False  # write-once still holds


@pytest.mark.parametrize("where", ["magic", "version", "nonce", "ciphertext", "tag"])
def test_flipped_byte_is_refused(settings: Settings, where: str) -> None:
    raw = raw_zone(settings)
    key = stored()
    raw.write(key, EXPORT)
    data = bytearray(raw.store.get(key))
    position = {"magic": 0, "version": 4, "nonce": 9, "ciphertext": len(data) // 2, "tag": len(data) - 1}[where]
    data[position] ^= 0x01
    replace_object(raw, key, bytes(data))
    with pytest.raises(IntegrityError, match=f"{key}.*(fails authentication|header|version)") as caught:
        raw.read(key, SHA)
    assert b"Nkosi" not in str(caught.value).encode()


@pytest.mark.parametrize("keep", [0, 3, 17, 32, -1])
def test_truncated_object_is_refused(settings: Settings, keep: int) -> None:
    raw = raw_zone(settings)
    key = stored()
    raw.write(key, EXPORT)
    data = raw.store.get(key)
    replace_object(raw, key, data[:keep])
    with pytest.raises(IntegrityError, match=f"{key}.*(truncated|fails authentication|header)"):
        raw.read(key, SHA)


def test_object_copied_to_another_practice_is_refused(settings: Settings) -> None:
    raw = raw_zone(settings)
    raw.write(stored("P001"), EXPORT)
    raw.keys.data_key("P002")  # P002 has keys of its own
    raw.store.put_new(stored("P002"), raw.store.get(stored("P001")))
    with pytest.raises(IntegrityError, match=r"practice_id=P002.*fails authentication"):
        raw.read(stored("P002"), SHA)


def test_object_copied_to_another_path_of_the_same_practice_is_refused(settings: Settings) -> None:
    raw = raw_zone(settings)
    raw.write(stored(dataset="patients"), EXPORT)
    raw.store.put_new(stored(dataset="appointments"), raw.store.get(stored(dataset="patients")))
    with pytest.raises(IntegrityError, match=r"dataset=appointments.*fails authentication"):
        raw.read(stored(dataset="appointments"), SHA)


def test_plaintext_planted_in_the_raw_zone_is_refused(settings: Settings) -> None:
    raw = raw_zone(settings)
    raw.store.put_new(stored(), EXPORT)  # right name, right hash, never encrypted
    with pytest.raises(IntegrityError, match="no encryption header"):
        raw.read(stored(), SHA)


def test_object_under_another_data_key_is_refused(settings: Settings) -> None:
    raw = raw_zone(settings)
    raw.write(stored(), EXPORT)
    settings.key_file.unlink()  # the key store is lost: P001 gets a new data key
    with pytest.raises(IntegrityError, match=f"{stored()}.*fails authentication"):
        raw_zone(settings).read(stored(), SHA)


def test_wrong_kek_names_the_object(settings: Settings) -> None:
    raw = raw_zone(settings)
    raw.write(stored(), EXPORT)
    settings.kek_file.unlink()  # dev mode makes a new one: it cannot unwrap the old keys
    with pytest.raises(KeyProviderError, match=f"{stored()} cannot be decrypted.*P001's data_key"):
        raw_zone(settings).read(stored(), SHA)


def test_shredded_practice_is_unreadable_and_others_are_not(settings: Settings) -> None:
    raw = raw_zone(settings)
    raw.write(stored("P001"), EXPORT)
    raw.write(stored("P002"), EXPORT)
    open_keys(settings).shred("P001")
    for reader in (raw, raw_zone(settings)):
        with pytest.raises(IntegrityError, match=f"{stored('P001')} cannot be decrypted.*P001 was offboarded"):
            reader.read(stored("P001"), SHA)
        assert reader.read(stored("P002"), SHA) == EXPORT
    with pytest.raises(ShreddedError):
        raw.write(stored("P001", "payers"), EXPORT)  # no new data under a destroyed practice id


def test_hash_is_still_checked_after_decryption(settings: Settings) -> None:
    raw = raw_zone(settings)
    other = EXPORT.replace(b"Nkosi", b"Dlamini")
    raw.write(stored(), other)  # sealed correctly, but not the bytes the address names
    with pytest.raises(IntegrityError, match="does not match its SHA-256"):
        raw.read(stored(), SHA)
