"""`practicelake serve`: the dashboard and the API over HTTPS."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from practicelake.cli.context import ConfigOption, opened, out
from practicelake.errors import SettingsError
from practicelake.settings import LOOPBACK


def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: web_host, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default: web_port, 8443).")] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the dashboard and the JSON API (/api/v1) over HTTPS until Ctrl-C."""
    from practicelake.web.app import create_app
    from practicelake.web.server import base_url, serve

    core = opened(ctx)
    settings = core.settings
    host = host or settings.web_host
    port = port or settings.web_port
    if host not in LOOPBACK and settings.tls_cert_file is None:
        raise SettingsError(
            f"serving on {host} needs a real certificate: set tls_cert_file and tls_key_file "
            "(the self-signed one is for localhost only)"
        )
    app = create_app(core)
    out.print(Text(f"practicelake is serving on {base_url(host, port)} (HTTPS); Ctrl-C stops it"))
    serve(app, settings, host, port)
