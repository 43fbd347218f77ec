"""The AWS KMS key provider, against moto's KMS: keys wrap and unwrap only under the same KMS
key and the same practice context."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lakes import local_settings
from practicelake.crypto.keystore import KeyStore, init_keys, open_keys
from practicelake.crypto.kms import AwsKmsKeyProvider, KeyProviderError
from practicelake.errors import SettingsError

REGION = "eu-west-1"


@pytest.fixture
def kms() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


def new_key(kms: Any) -> str:
    key_id: str = kms.create_key(Description="practicelake test KEK")["KeyMetadata"]["KeyId"]
    return key_id


def test_round_trip_through_the_settings(kms: Any, tmp_path: Path) -> None:
    settings = local_settings(tmp_path, key_provider="aws-kms", kms_key_id=new_key(kms), kms_region=REGION)
    assert "wraps and unwraps" in init_keys(settings)
    first = open_keys(settings)
    data_key, secret = first.data_key("P001"), first.pseudonym_secret("P001")
    again = open_keys(settings)
    assert (again.data_key("P001"), again.pseudonym_secret("P001")) == (data_key, secret)
    assert len({data_key, secret, again.data_key("P002")}) == 3
    assert not settings.kek_file.exists()  # no local key-encryption key in play


def test_wrong_encryption_context_is_refused(kms: Any) -> None:
    provider = AwsKmsKeyProvider(new_key(kms), kms)
    wrapped = provider.wrap(b"k" * 32, {"practicelake:practice_id": "P001"})
    assert provider.unwrap(wrapped, {"practicelake:practice_id": "P001"}) == b"k" * 32
    for context in ({"practicelake:practice_id": "P002"}, {}):
        with pytest.raises(KeyProviderError, match="refused to unwrap"):
            provider.unwrap(wrapped, context)


def test_wrapped_key_moved_to_another_practice_is_refused(kms: Any, tmp_path: Path) -> None:
    key_id = new_key(kms)
    store = KeyStore(tmp_path / "keys.json", AwsKmsKeyProvider(key_id, kms))
    store.data_key("P001")
    store.data_key("P002")
    document = json.loads((tmp_path / "keys.json").read_text())
    document["practices"]["P002"]["data_key"] = document["practices"]["P001"]["data_key"]
    (tmp_path / "keys.json").write_text(json.dumps(document))
    with pytest.raises(KeyProviderError, match=r"P002's data_key.*refused to unwrap"):
        KeyStore(tmp_path / "keys.json", AwsKmsKeyProvider(key_id, kms)).data_key("P002")


def test_another_kms_key_unwraps_nothing(kms: Any) -> None:
    wrapped = AwsKmsKeyProvider(new_key(kms), kms).wrap(b"k" * 32, {"practicelake:practice_id": "P001"})
    with pytest.raises(KeyProviderError):
        AwsKmsKeyProvider(new_key(kms), kms).unwrap(wrapped, {"practicelake:practice_id": "P001"})


def test_kms_provider_needs_a_key_id(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="kms_key_id is not set"):
        open_keys(local_settings(tmp_path, key_provider="aws-kms"))


def test_switching_provider_is_refused_not_guessed(kms: Any, tmp_path: Path) -> None:
    local = local_settings(tmp_path)
    open_keys(local).data_key("P001")
    switched = local_settings(tmp_path, key_provider="aws-kms", kms_key_id=new_key(kms), kms_region=REGION)
    with pytest.raises(SettingsError, match="wrapped by the local key provider, but key_provider is aws-kms"):
        open_keys(switched).data_key("P001")
