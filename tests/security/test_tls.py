"""TLS for the web server: a real handshake on 127.0.0.1 with a client that trusts the
certificate; refused by a client that does not, or that offers less than TLS 1.2."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509

from lakes import local_settings
from practicelake.crypto.tls import certificate_files, server_context, write_certificate
from practicelake.errors import SettingsError
from practicelake.settings import Settings

GREETING = b"practicelake over TLS\n"


@contextmanager
def tls_server(context: ssl.SSLContext) -> Iterator[tuple[int, list[BaseException]]]:
    """A TLS server on 127.0.0.1 that greets one client; what went wrong on its side."""
    failures: list[BaseException] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def serve() -> None:
            try:
                connection, _ = listener.accept()
                connection.settimeout(10)
                with context.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(GREETING)
            except (OSError, ssl.SSLError) as exc:
                failures.append(exc)

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            yield listener.getsockname()[1], failures
        finally:
            thread.join(timeout=10)


def greeting(port: int, client: ssl.SSLContext, host: str) -> tuple[bytes, str | None]:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        client.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return tls.recv(len(GREETING)), tls.version()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return local_settings(tmp_path)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_handshake_with_a_client_that_trusts_the_certificate(settings: Settings, host: str) -> None:
    context = server_context(settings)
    certificate, key = certificate_files(settings)
    assert key.stat().st_mode & 0o777 == 0o600 and key.parent == settings.state_dir / "tls"
    client = ssl.create_default_context(cafile=certificate)
    with tls_server(context) as (port, failures):
        received, version = greeting(port, client, host)
    assert received == GREETING and version in ("TLSv1.2", "TLSv1.3")
    assert failures == []


def test_untrusting_client_refuses_the_self_signed_certificate(settings: Settings) -> None:
    with tls_server(server_context(settings)) as (port, failures), pytest.raises(ssl.SSLCertVerificationError):
        greeting(port, ssl.create_default_context(), "localhost")
    assert failures  # the server saw the client give up


def test_certificate_for_another_name_is_refused(settings: Settings) -> None:
    certificate, _ = certificate_files(settings)
    client = ssl.create_default_context(cafile=certificate)
    with (
        tls_server(server_context(settings)) as (port, _),
        pytest.raises(ssl.SSLCertVerificationError, match="mismatch"),
    ):
        greeting(port, client, "practicelake.example")


def test_tls_1_2_is_the_minimum(settings: Settings) -> None:
    context = server_context(settings)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    certificate, _ = certificate_files(settings)
    client = ssl.create_default_context(cafile=certificate)
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    with tls_server(context) as (port, _):
        assert greeting(port, client, "localhost") == (GREETING, "TLSv1.2")
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(certificate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # setting TLS 1.1 is itself deprecated
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    with tls_server(context) as (port, failures), pytest.raises(ssl.SSLError):
        greeting(port, old, "localhost")
    assert failures


def test_self_signed_certificate_is_kept_and_covers_local_names(settings: Settings) -> None:
    certificate, key = certificate_files(settings)
    first = certificate.read_bytes(), key.read_bytes()
    assert (certificate_files(settings)[0].read_bytes(), key.read_bytes()) == first
    names = x509.load_pem_x509_certificate(first[0]).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(ip) for ip in names.value.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}


def test_configured_certificate_is_served(tmp_path: Path) -> None:
    certificate, key = tmp_path / "site.crt", tmp_path / "site.key"
    write_certificate(certificate, key, ("lake.practice.example",))
    settings = local_settings(tmp_path, tls_cert_file=certificate, tls_key_file=key)
    client = ssl.create_default_context(cafile=certificate)
    with tls_server(server_context(settings)) as (port, failures):
        assert greeting(port, client, "lake.practice.example")[0] == GREETING
    assert failures == []
    assert not (settings.state_dir / "tls").exists()  # nothing self-signed was made


def test_configured_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    certificate, key = tmp_path / "site.crt", tmp_path / "site.key"
    write_certificate(certificate, key, ("lake.practice.example",))
    key.chmod(0o644)
    with pytest.raises(SettingsError, match="may be read by group or others"):
        server_context(local_settings(tmp_path, tls_cert_file=certificate, tls_key_file=key))


def test_self_signed_key_made_readable_by_others_is_refused(settings: Settings) -> None:
    _, key = certificate_files(settings)
    key.chmod(0o640)
    with pytest.raises(SettingsError, match="chmod 600"):
        server_context(settings)


def test_half_configured_certificate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="both tls_cert_file and tls_key_file"):
        server_context(local_settings(tmp_path, tls_cert_file=tmp_path / "site.crt"))


def test_key_that_does_not_match_the_certificate_is_refused(tmp_path: Path) -> None:
    write_certificate(tmp_path / "a.crt", tmp_path / "a.key", ("localhost",))
    write_certificate(tmp_path / "b.crt", tmp_path / "b.key", ("localhost",))
    with pytest.raises(SettingsError, match="cannot use the TLS certificate"):
        server_context(local_settings(tmp_path, tls_cert_file=tmp_path / "a.crt", tls_key_file=tmp_path / "b.key"))
