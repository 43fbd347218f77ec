"""Raw objects are encrypted at rest and named by a keyed hash of their content, and anything
but the object as written is refused with a message naming it, never returned as data: on
the local and the S3 backend."""

from __future__ import annotations

import hashlib
import hmac
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


def raw_zone(settings: Settings) -> RawZone:
    return RawZone(open_store(settings), open_keys(settings))


def stored(raw: RawZone, practice_id: str = "P001", dataset: str = "patients") -> tuple[str, str]:
    """The object key and the content address EXPORT is stored under for the practice."""
    address = raw.address(practice_id, EXPORT)
    return RawZone.object_key(practice_id, "pms", dataset, date(2024, 1, 31), address), address


def replace_object(raw: RawZone, key: str, data: bytes) -> None:
    """What someone with write access to the bucket or folder could do."""
    raw.store.delete(key)
    assert raw.store.put_new(key, data)


def test_round_trip_and_nothing_readable_at_rest(settings: Settings) -> None:
    raw = raw_zone(settings)
    key, address = stored(raw)
    assert raw.write(key, EXPORT) is True
    at_rest = raw.store.get(key)
    assert at_rest.startswith(HEADER) and len(at_rest) == len(EXPORT) + len(HEADER) + NONCE_BYTES + 16
    assert b"Nkosi" not in at_rest and b"MRN-7" not in at_rest
    assert raw.read(key, address) == EXPORT
    assert raw_zone(settings).read(key, address) == EXPORT  # a new process, the same keys
    assert raw.write(key, EXPORT) is False  # write-once still holds


def test_the_name_is_a_keyed_hash_no_plain_hash_confirms(settings: Settings) -> None:
    raw = raw_zone(settings)
    key, address = stored(raw)
    assert address == hmac.new(raw.keys.file_hash_secret("P001"), EXPORT, "sha256").hexdigest()
    assert hashlib.sha256(EXPORT).hexdigest() not in key
    assert raw.address("P001", EXPORT) == address  # the same bytes are recognised
    assert raw.address("P002", EXPORT) != address  # each practice has its own secret


@pytest.mark.parametrize("where", ["magic", "version", "nonce", "ciphertext", "tag"])
def test_flipped_byte_is_refused(settings: Settings, where: str) -> None:
    raw = raw_zone(settings)
    key, address = stored(raw)
    raw.write(key, EXPORT)
    data = bytearray(raw.store.get(key))
    position = {"magic": 0, "version": 4, "nonce": 9, "ciphertext": len(data) // 2, "tag": len(data) - 1}[where]
    data[position] ^= 0x01
    replace_object(raw, key, bytes(data))
    with pytest.raises(IntegrityError, match=f"{key}.*(fails authentication|header|version)") as caught:
        raw.read(key, address)
    assert b"Nkosi" not in str(caught.value).encode()


@pytest.mark.parametrize("keep", [0, 3, 17, 32, -1])
def test_truncated_object_is_refused(settings: Settings, keep: int) -> None:
    raw = raw_zone(settings)
    key, address = stored(raw)
    raw.write(key, EXPORT)
    data = raw.store.get(key)
    replace_object(raw, key, data[:keep])
    with pytest.raises(IntegrityError, match=f"{key}.*(truncated|fails authentication|header)"):
        raw.read(key, address)


def test_object_copied_to_another_practice_is_refused(settings: Settings) -> None:
    raw = raw_zone(settings)
    (first, _), (second, address) = stored(raw, "P001"), stored(raw, "P002")
    raw.write(first, EXPORT)
    raw.store.put_new(second, raw.store.get(first))
    with pytest.raises(IntegrityError, match=r"practice_id=P002.*fails authentication"):
        raw.read(second, address)


def test_object_copied_to_another_path_of_the_same_practice_is_refused(settings: Settings) -> None:
    raw = raw_zone(settings)
    (first, _), (second, address) = stored(raw, dataset="patients"), stored(raw, dataset="appointments")
    raw.write(first, EXPORT)
    raw.store.put_new(second, raw.store.get(first))
    with pytest.raises(IntegrityError, match=r"dataset=appointments.*fails authentication"):
        raw.read(second, address)


def test_plaintext_planted_in_the_raw_zone_is_refused(settings: Settings) -> None:
    raw = raw_zone(settings)
    key, address = stored(raw)
    raw.store.put_new(key, EXPORT)  # right name, right hash, never encrypted
    with pytest.raises(IntegrityError, match="no encryption header"):
        raw.read(key, address)


def test_object_under_another_data_key_is_refused(settings: Settings) -> None:
    raw = raw_zone(settings)
    key, address = stored(raw)
    raw.write(key, EXPORT)
    settings.key_file.unlink()  # the key store is lost: P001 gets a new data key
    with pytest.raises(IntegrityError, match=f"{key}.*fails authentication"):
        raw_zone(settings).read(key, address)


def test_wrong_kek_names_the_object(settings: Settings) -> None:
    raw = raw_zone(settings)
    key, address = stored(raw)
    raw.write(key, EXPORT)
    settings.kek_file.unlink()  # dev mode makes a new one: it cannot unwrap the old keys
    with pytest.raises(KeyProviderError, match=f"{key} cannot be decrypted.*P001's data_key"):
        raw_zone(settings).read(key, address)


def test_shredded_practice_is_unreadable_and_others_are_not(settings: Settings) -> None:
    raw = raw_zone(settings)
    (leaving, gone), (staying, kept) = stored(raw, "P001"), stored(raw, "P002")
    raw.write(leaving, EXPORT)
    raw.write(staying, EXPORT)
    payers = RawZone.object_key("P001", "pms", "payers", date(2024, 1, 31), gone)
    open_keys(settings).shred("P001")
    for reader in (raw, raw_zone(settings)):
        with pytest.raises(IntegrityError, match=f"{leaving} cannot be decrypted.*P001 was offboarded"):
            reader.read(leaving, gone)
        assert reader.read(staying, kept) == EXPORT
        with pytest.raises(ShreddedError):
            reader.address("P001", EXPORT)  # the names of its objects are tied to no content any more
    with pytest.raises(ShreddedError):
        raw.write(payers, EXPORT)  # no new data under a destroyed practice id


def test_hash_is_still_checked_after_decryption(settings: Settings) -> None:
    raw = raw_zone(settings)
    key, address = stored(raw)
    other = EXPORT.replace(b"Nkosi", b"Dlamini")
    raw.write(key, other)  # sealed correctly, but not the bytes the address names
    with pytest.raises(IntegrityError, match="does not match its content address"):
        raw.read(key, address)
