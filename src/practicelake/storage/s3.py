"""Object storage on S3 (`s3://bucket/prefix`). Write-once uses conditional writes
(`If-None-Match: *`), which S3 evaluates atomically."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from practicelake.errors import StorageError
from practicelake.settings import Settings
from practicelake.storage.base import ObjectStore


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for these settings (TLS unless a loopback test endpoint is set)."""
    options: dict[str, Any] = {
        "region_name": settings.s3_region,
        "config": Config(retries={"max_attempts": 5, "mode": "standard"}, s3={"addressing_style": "path"}),
    }
    if settings.s3_endpoint_url:
        options["endpoint_url"] = settings.s3_endpoint_url
    if settings.s3_access_key_id and settings.s3_secret_access_key:
        options["aws_access_key_id"] = settings.s3_access_key_id.get_secret_value()
        options["aws_secret_access_key"] = settings.s3_secret_access_key.get_secret_value()
    return boto3.client("s3", **options)


class S3Store(ObjectStore):
    def __init__(self, root: str, settings: Settings) -> None:
        self.root = root.rstrip("/")
        bucket, _, prefix = self.root.removeprefix("s3://").partition("/")
        self._bucket = bucket
        self._prefix = f"{prefix}/" if prefix else ""
        self._client = s3_client(settings)

    def _key(self, key: str) -> str:
        if ".." in key.split("/"):
            raise StorageError(f"key {key!r} leaves the store")
        return self._prefix + key

    def put_new(self, key: str, data: bytes) -> bool:
        try:
            self._client.put_object(Bucket=self._bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
        except ClientError as exc:
            if _code(exc) in CHANGED:
                return False
            raise StorageError(f"cannot write {self.uri(key)}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot write {self.uri(key)}: {exc}") from exc
        return True

    def get(self, key: str) -> bytes:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=self._key(key))["Body"]
            data: bytes = body.read()
        except ClientError as exc:
            if _code(exc) in MISSING:
                raise StorageError(f"{self.uri(key)} does not exist") from None
            raise StorageError(f"cannot read {self.uri(key)}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot read {self.uri(key)}: {exc}") from exc
        return data

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=self._key(key))
        except ClientError as exc:
            if _code(exc) in MISSING:
                return False
            raise StorageError(f"cannot read {self.uri(key)}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot read {self.uri(key)}: {exc}") from exc
        return True

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self._bucket, Prefix=self._key(prefix)):
                for item in page.get("Contents", []):
                    yield item["Key"].removeprefix(self._prefix)
        except ClientError as exc:
            raise StorageError(f"cannot list {self.uri(prefix)}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot list {self.uri(prefix)}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=self._key(key))
        except ClientError as exc:
            raise StorageError(f"cannot delete {self.uri(key)}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot delete {self.uri(key)}: {exc}") from exc

    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._key(key))
            data: bytes = response["Body"].read()
        except ClientError as exc:
            if _code(exc) in MISSING:
                return None
            raise StorageError(f"cannot read {self.uri(key)}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot read {self.uri(key)}: {exc}") from exc
        return data, str(response["ETag"])

    def replace_version(self, key: str, data: bytes, version: str) -> str | None:
        # If-Match: S3 replaces the object only if its ETag is still `version`, atomically.
        try:
            response = self._client.put_object(Bucket=self._bucket, Key=self._key(key), Body=data, IfMatch=version)
        except ClientError as exc:
            if _code(exc) in CHANGED or _code(exc) in MISSING:
                return None
            raise StorageError(f"cannot write {self.uri(key)}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot write {self.uri(key)}: {exc}") from exc
        return str(response["ETag"])

    def delete_version(self, key: str, version: str) -> bool:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=self._key(key), IfMatch=version)
        except ClientError as exc:
            if _code(exc) in CHANGED or _code(exc) in MISSING:
                return False
            raise StorageError(f"cannot delete {self.uri(key)}: {_code(exc)}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"cannot delete {self.uri(key)}: {exc}") from exc
        return True


MISSING = ("404", "NoSuchKey", "NotFound")
CHANGED = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code"))
