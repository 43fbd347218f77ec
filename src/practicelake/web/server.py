"""Serving the web app over HTTPS with uvicorn: `serve` for `practicelake serve`, `running` for
a server in a thread (the demo's check, the tests, the benchmarks). Plain HTTP is never served:
the certificate is the configured one or a self-signed one for localhost (crypto.tls), and
TLS 1.2 is the oldest version accepted."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from practicelake.app import App
from practicelake.crypto.tls import certificate_files
from practicelake.dashboard.warm import warm_up
from practicelake.errors import PracticelakeError
from practicelake.settings import Settings

STARTUP_SECONDS = 30
log = logging.getLogger("practicelake.web")


def _config(app: FastAPI, settings: Settings, host: str, port: int, log_level: str) -> uvicorn.Config:
    cert_file, key_file = certificate_files(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(cert_file),
        ssl_keyfile=str(key_file),
        log_level=log_level,
        server_header=False,
        proxy_headers=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    config.load()
    assert config.ssl is not None  # certificate files were given
    config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
    return config


def _bound(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PracticelakeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(host: str, port: int) -> str:
    shown = "localhost" if host in ("127.0.0.1", "localhost") else (f"[{host}]" if ":" in host else host)
    return f"https://{shown}:{port}"


def serve(app: FastAPI, settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted (Ctrl-C). The read path warms up meanwhile (dashboard.warm);
    /ready answers 503 until it has."""
    sock = _bound(host, port)
    app.state.ready.clear()
    threading.Thread(target=_warm, args=(app,), name="practicelake-warm-up", daemon=True).start()
    server = uvicorn.Server(_config(app, settings, host, port, "info"))
    server.run(sockets=[sock])


def _warm(app: FastAPI) -> None:
    core: App = app.state.core
    try:
        warm_up(core.reader, core.users)
    except Exception as exc:  # the server serves without it; its first readers wait instead
        log.warning("the read path did not warm up (%s): the first pages wait for it", type(exc).__name__)
    finally:
        app.state.ready.set()


@contextlib.contextmanager
def running(app: FastAPI, settings: Settings, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve in a thread for the `with` block (a free port by default); its base URL."""
    sock = _bound(host, port)
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, settings, host, bound_port, "warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="practicelake-web", daemon=True)
    thread.start()
    try:
        for _ in range(STARTUP_SECONDS * 100):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not server.started:
            raise PracticelakeError(f"the web server did not start on {host}:{bound_port}")
        yield base_url(host, bound_port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
