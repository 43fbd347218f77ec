"""Key providers: what wraps and unwraps the practices' keys with a key-encryption key (KEK).

The KEK never leaves its provider's custody as far as the rest of practicelake knows: a
caller hands over a key and a context (the practice and the key's purpose) and gets back
wrapped bytes, which unwrap only with the same KEK and the same context. Chosen by the
`key_provider` setting: `local` (a KEK file, the default) or `aws-kms`.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from practicelake.crypto.envelope import KEY_BYTES, EnvelopeError, seal, unseal
from practicelake.errors import PracticelakeError, SettingsError
from practicelake.settings import Settings

Context = Mapping[str, str]
INIT_HINT = "run `practicelake init` to create it"


class KeyProviderError(PracticelakeError):
    """A key could not be wrapped or unwrapped: wrong key-encryption key, altered wrapped
    key, wrong context, or the key service refused."""


class KeyProvider(ABC):
    name: str

    @abstractmethod
    def wrap(self, key: bytes, context: Context) -> bytes:
        """`key` sealed under the KEK, bound to `context`."""

    @abstractmethod
    def unwrap(self, wrapped: bytes, context: Context) -> bytes:
        """The key `wrap` sealed; KeyProviderError unless the KEK and `context` are the same."""

    @abstractmethod
    def describe(self) -> str:
        """Where the KEK lives, for messages (never the key itself)."""


def _context_bytes(context: Context) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


class LocalKeyProvider(KeyProvider):
    """A 256-bit KEK in a local file, readable by its owner only."""

    name = "local"

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        self._create = create
        self._kek: bytes | None = None

    def describe(self) -> str:
        return f"the key-encryption key in {self.path}"

    @classmethod
    def create_kek(cls, path: Path) -> bool:
        """Create the KEK file (0600, in a 0700 folder); False if it already exists: an
        existing KEK is never replaced, or every key wrapped by it would be lost."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            os.link(tmp, path)  # create-only: two processes creating at once keep one KEK
        except FileExistsError:
            return False
        finally:
            tmp.unlink()
        return True

    def _key(self) -> bytes:
        if self._kek is None:
            if self._create and not self.path.exists():
                self.create_kek(self.path)
            self._kek = self._read()
        return self._kek

    def _read(self) -> bytes:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise SettingsError(f"no key-encryption key at {self.path}: {INIT_HINT}") from None
        except OSError as exc:
            raise SettingsError(f"cannot open the key-encryption key {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise SettingsError(f"key-encryption key {self.path} is not a regular file")
            if mode & 0o077:
                raise SettingsError(
                    f"key-encryption key {self.path} may be read by group or others (mode {mode & 0o777:o}): "
                    "refusing to use it; chmod 600 it, and replace it if others may have read it"
                )
            kek = handle.read(KEY_BYTES + 1)
        if len(kek) != KEY_BYTES:
            raise SettingsError(f"key-encryption key {self.path} is not a 256-bit key (damaged or not a key file)")
        return kek

    def wrap(self, key: bytes, context: Context) -> bytes:
        return seal(self._key(), key, _context_bytes(context))

    def unwrap(self, wrapped: bytes, context: Context) -> bytes:
        try:
            return unseal(self._key(), wrapped, _context_bytes(context))
        except EnvelopeError as exc:
            raise KeyProviderError(f"a wrapped key {exc} ({self.describe()})") from None


class AwsKmsKeyProvider(KeyProvider):
    """Keys wrapped by AWS KMS Encrypt/Decrypt; the context is the KMS EncryptionContext, so
    CloudTrail records which practice each unwrap was for and a key copied to another
    practice does not unwrap."""

    name = "aws-kms"

    def __init__(self, key_id: str, client: Any) -> None:
        self.key_id = key_id
        self._client = client

    @classmethod
    def for_settings(cls, settings: Settings) -> AwsKmsKeyProvider:
        if not settings.kms_key_id:
            raise SettingsError("key_provider is aws-kms but kms_key_id is not set")
        return cls(settings.kms_key_id, boto3.client("kms", region_name=settings.kms_region or settings.s3_region))

    def describe(self) -> str:
        return f"the AWS KMS key {self.key_id}"

    def _call(self, operation: str, **arguments: Any) -> Any:
        try:
            return getattr(self._client, operation)(KeyId=self.key_id, **arguments)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            if code == "InvalidCiphertextException":
                raise KeyProviderError(
                    f"{self.describe()} refused to unwrap a key: wrong key or context, or the wrapped key was altered"
                ) from None
            raise KeyProviderError(f"{self.describe()}: {operation} failed ({code})") from None
        except BotoCoreError as exc:
            raise KeyProviderError(f"{self.describe()}: {operation} failed ({type(exc).__name__})") from None

    def wrap(self, key: bytes, context: Context) -> bytes:
        blob: bytes = self._call("encrypt", Plaintext=key, EncryptionContext=dict(context))["CiphertextBlob"]
        return blob

    def unwrap(self, wrapped: bytes, context: Context) -> bytes:
        key: bytes = self._call("decrypt", CiphertextBlob=wrapped, EncryptionContext=dict(context))["Plaintext"]
        return key


def _outside_warehouse(settings: Settings, path: Path) -> None:
    for folder in settings.local_folders:
        if path.resolve().is_relative_to(folder.resolve()):
            raise SettingsError(f"{path} is inside the lakehouse's data ({folder}): keys must be kept apart from it")


def key_provider(settings: Settings) -> KeyProvider:
    """The provider the settings name. A missing local KEK is created only in dev mode."""
    _outside_warehouse(settings, settings.key_file)
    if settings.key_provider == "aws-kms":
        return AwsKmsKeyProvider.for_settings(settings)
    _outside_warehouse(settings, settings.kek_file)
    return LocalKeyProvider(settings.kek_file, create=settings.dev_mode)
