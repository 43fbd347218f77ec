"""TLS for the web server: the configured certificate and key, or else a self-signed
certificate for localhost and 127.0.0.1, generated into state_dir/tls on first start (and
again when it nears expiry). TLS 1.2 at least."""

from __future__ import annotations

import fcntl
import ipaddress
import os
import ssl
import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from practicelake.errors import SettingsError
from practicelake.settings import Settings

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
VALID_FOR = timedelta(days=365)
RENEW_BEFORE = timedelta(days=30)


def server_context(settings: Settings) -> ssl.SSLContext:
    cert_file, key_file = certificate_files(settings)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as exc:
        raise SettingsError(f"cannot use the TLS certificate {cert_file} with its key {key_file}: {exc}") from None
    return context


def certificate_files(settings: Settings) -> tuple[Path, Path]:
    """(certificate chain, private key) the server presents."""
    configured = settings.tls_cert_file, settings.tls_key_file
    if configured[0] is None and configured[1] is None:
        return self_signed(settings.state_dir / "tls")
    if configured[0] is None or configured[1] is None:
        raise SettingsError("set both tls_cert_file and tls_key_file, or neither (a self-signed certificate)")
    _private(configured[1])
    return configured[0], configured[1]


def self_signed(folder: Path) -> tuple[Path, Path]:
    """The local certificate and key in `folder`, made (or renewed) if missing or near expiry."""
    cert_file, key_file = folder / "localhost.crt", folder / "localhost.key"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two servers starting at once make one pair
        if not _usable(cert_file, key_file):
            write_certificate(cert_file, key_file, LOCAL_HOSTS)
    return cert_file, key_file


def write_certificate(cert_file: Path, key_file: Path, hosts: tuple[str, ...]) -> None:
    """A new P-256 key (0600) and a self-signed server certificate for `hosts`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.now(UTC)
    alternative_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alternative_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alternative_names.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _replace(key_file, private, 0o600)
    _replace(cert_file, certificate.public_bytes(serialization.Encoding.PEM), 0o644)


def _usable(cert_file: Path, key_file: Path) -> bool:
    if not key_file.exists() or not cert_file.exists():
        return False
    _private(key_file)
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return certificate.not_valid_after_utc - RENEW_BEFORE > datetime.now(UTC)


def _private(key_file: Path) -> None:
    try:
        mode = key_file.stat().st_mode
    except FileNotFoundError:
        raise SettingsError(f"TLS key {key_file} does not exist") from None
    if stat.S_IMODE(mode) & 0o077:
        raise SettingsError(
            f"TLS key {key_file} may be read by group or others (mode {stat.S_IMODE(mode):o}): chmod 600 it"
        )


def _replace(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
