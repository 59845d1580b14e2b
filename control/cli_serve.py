"""`neverblink serve`: Mission Control (HTTP API + dashboard) for one bot, on 127.0.0.1 by default.

A non-loopback address is refused unless NEVERBLINK_API_TOKEN is set
explicitly (a generated token in a file is fine on one machine, not on a network).
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any

import click

from control.cli_common import settings_options
from state_store.settings import ENV_API_TOKEN, Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8791
MIN_NETWORK_TOKEN = 16


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def network_refusal(host: str) -> str | None:
    """Why `host` may not be bound with the token configured now; None when it may."""
    if is_loopback(host):
        return None
    token = os.environ.get(ENV_API_TOKEN, "")
    if not token:
        return (
            f"refusing to listen on {host}: a non-loopback address needs an explicit token. "
            f"Set {ENV_API_TOKEN} (at least {MIN_NETWORK_TOKEN} characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), or bind 127.0.0.1 "
            "and reach it through an SSH tunnel or a TLS reverse proxy."
        )
    if len(token) < MIN_NETWORK_TOKEN:
        return (
            f"refusing to listen on {host}: {ENV_API_TOKEN} is {len(token)} characters; "
            f"use at least {MIN_NETWORK_TOKEN} on a network"
        )
    return None


def build(
    settings: Settings,
    host: str,
    cors_origins: tuple[str, ...] = (),
    allowed_hosts: tuple[str, ...] = (),
    private_reads: bool = False,
    poll_s: float = 1.0,
) -> Any:
    """The app `serve` runs (the Host header check is on for a loopback bind)."""
    from control.api import ApiConfig, create_app
    from control.api.config import LOOPBACK_HOSTS

    hosts: tuple[str, ...] | None = None
    if is_loopback(host):
        hosts = (*LOOPBACK_HOSTS, *allowed_hosts)
    elif allowed_hosts:
        hosts = allowed_hosts
    config = ApiConfig(
        token=settings.api_token(),
        allowed_hosts=hosts,
        cors_origins=cors_origins,
        private_reads=private_reads,
        poll_interval_s=poll_s,
    )
    return create_app(settings, config)


@click.command("serve")
@settings_options
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to bind")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port")
@click.option(
    "--cors-origin", "cors_origins", multiple=True,
    help="Allow this browser origin to call the API (repeat); no CORS headers otherwise",
)  # fmt: skip
@click.option(
    "--allowed-host", "allowed_hosts", multiple=True,
    help="Also accept this Host header (repeat), e.g. the name of a reverse proxy",
)  # fmt: skip
@click.option(
    "--private-reads", is_flag=True,
    help="Require the token for reads too (/api/events then takes ?token=; access log off)",
)  # fmt: skip
@click.option("--poll", "poll_s", type=float, default=1.0, show_default=True,
              help="Seconds between the event stream's looks at Redis and the files")  # fmt: skip
def serve_command(
    settings: Settings,
    host: str,
    port: int,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    private_reads: bool,
    poll_s: float,
) -> None:
    """Serve Mission Control: the control API, /api/events, /metrics and the dashboard at /."""
    from control.api.server import serve

    refusal = network_refusal(host)
    if refusal:
        raise click.ClickException(refusal)
    if poll_s <= 0:
        raise click.BadParameter("must be > 0", param_hint="--poll")
    app = build(settings, host, cors_origins, allowed_hosts, private_reads, poll_s)
    source = ENV_API_TOKEN if os.environ.get(ENV_API_TOKEN) else settings.home / "api_token"
    where = f"[{host}]" if ":" in host else host
    click.echo(
        f"Mission Control for bot {settings.bot!r} on http://{where}:{port}/ (token: {source})",
        err=True,
    )
    serve(app, host, port, access_log=not private_reads)


COMMANDS = [serve_command]
