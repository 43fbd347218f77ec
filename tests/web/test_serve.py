"""The server over the wire: HTTPS only (TLS 1.2 at least, the self-signed certificate for
localhost verifies), the security headers on what a real client receives, `practicelake serve`
refusing a public address without a real certificate, and `make demo` ending with the
dashboard checked and the sign-ins printed when its input is not a terminal."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from lakes import local_settings
from practicelake.app import App
from practicelake.crypto.tls import certificate_files
from practicelake.web import server
from practicelake.web.app import create_app
from practicelake.web.server import running

PRACTICELAKE = str(Path(sys.executable).with_name("practicelake"))


@pytest.fixture
def served(tmp_path: Path) -> object:
    core = App(local_settings(tmp_path))
    with running(create_app(core), core.settings) as url:
        yield url, core
    core.close()


def _verified(core: App) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate_files(core.settings)[0]))


def test_the_server_speaks_https_with_its_certificate_and_headers(served: tuple[str, App]) -> None:
    url, core = served
    response = httpx.get(f"{url}/sign-in", verify=_verified(core))
    assert response.status_code == 200
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "server" not in response.headers
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/sign-in")  # not trusted without the certificate


def test_plain_http_and_old_tls_get_nothing(served: tuple[str, App]) -> None:
    url, _ = served
    parts = urlsplit(url)
    host, port = "127.0.0.1", parts.port or 443
    with socket.create_connection((host, port), timeout=5) as plain:
        plain.sendall(b"GET /sign-in HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = plain.recv(4096)
    assert b"HTTP/1.1 200" not in answer and b"<html" not in answer
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # Python warns that TLS 1.0 and 1.1 are deprecated: the point
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection((host, port), timeout=5) as raw, pytest.raises(ssl.SSLError):
        old.wrap_socket(raw, server_hostname="localhost").do_handshake()


def test_serve_refuses_a_public_address_with_the_self_signed_certificate(tmp_path: Path) -> None:
    config = tmp_path / "practicelake.toml"
    config.write_text(f'state_dir = "{tmp_path / "state"}"\nwarehouse_uri = "{(tmp_path / "lake").as_uri()}"\n')
    done = subprocess.run(
        [PRACTICELAKE, "serve", "--host", "0.0.0.0", "--config", str(config)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1
    assert "needs a real certificate" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_the_demo_ends_by_checking_the_dashboard_when_not_on_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run(
        [PRACTICELAKE, "demo", "--dir", str(tmp_path / "demo"), "--practices", "2"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "the dashboard answered" in done.stdout
    for user in ("demo.owner", "demo.manager", "demo.frontdesk", "demo.billing", "demo.operator", "demo.analyst"):
        assert user in done.stdout
    # Random passwords, printed once: none is a default and no two are the same.
    printed = re.findall(r"demo\.\w+\s+│?\s*\w+\s+│?\s*([A-Za-z0-9_-]{16})", done.stdout)
    assert len(set(printed)) == 6
    # A second demo writes nothing new and gives the sign-ins new passwords.
    again = subprocess.run(
        [PRACTICELAKE, "demo", "--dir", str(tmp_path / "demo"), "--practices", "2"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert "the dashboard answered" in again.stdout
    assert not set(re.findall(r"demo\.\w+\s+│?\s*\w+\s+│?\s*([A-Za-z0-9_-]{16})", again.stdout)) & set(printed)


def test_ready_answers_503_until_the_read_path_has_warmed_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    core = App(local_settings(tmp_path))
    app = create_app(core)
    try:
        with running(app, core.settings) as url:
            tls = _verified(core)
            app.state.ready.clear()  # what `serve` does before it starts warming up
            waiting = httpx.get(f"{url}/ready", verify=tls)
            assert waiting.status_code == 503 and waiting.json() == {"ready": False}
            assert waiting.headers["retry-after"] == "1" and waiting.headers["cache-control"] == "no-store"
            assert "default-src 'self'" in waiting.headers["content-security-policy"]
            server._warm(app)
            ready = httpx.get(f"{url}/ready", verify=tls)  # no sign-in: it shows no data
            assert ready.status_code == 200 and ready.json() == {"ready": True}

            def broken(_reader: object) -> int:
                raise OSError("the catalog is away")

            app.state.ready.clear()
            monkeypatch.setattr(server, "warm_up", broken)
            server._warm(app)  # a warm-up that fails still lets the server take readers
            assert httpx.get(f"{url}/ready", verify=tls).status_code == 200
    finally:
        core.close()
