"""`neverblink venue`: serve the paper CLOB venue on 127.0.0.1."""

from __future__ import annotations

import click

from control.cli_common import require_redis, settings_options
from state_store.settings import Settings

DEFAULT_PORT = 8790  # exchange.paper.server.DEFAULT_PORT; kept here so --help imports nothing heavy


@click.command("venue")
@settings_options
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port to listen on")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind")
@click.option(
    "--name",
    default="paper",
    show_default=True,
    help="Venue name: its Redis keys are pv:{NAME}:...",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the reference prices")
@click.option(
    "--speed", type=float, default=1.0, show_default=True, help="Venue seconds per wall second"
)
@click.option(
    "--window-seconds",
    type=int,
    default=None,
    help="Length of the 5m windows in venue seconds (15m windows: 3x) [default: 300]",
)
@click.option("--vol", type=float, default=0.6, show_default=True, help="Annualised volatility")
@click.option(
    "--start-ts",
    type=float,
    default=None,
    help="Venue time (unix seconds) of a venue's first start [default: now]; "
    "a venue that ran before in this Redis continues its own timeline",
)
def venue_command(
    settings: Settings,
    port: int,
    host: str,
    name: str,
    seed: int,
    speed: float,
    window_seconds: int | None,
    vol: float,
    start_ts: float | None,
) -> None:
    """Serve the paper CLOB venue (Polymarket REST dialect) until interrupted."""
    from exchange.paper import PaperConfig, create_app, serve

    what = "cannot start the paper venue (it keeps its books in Redis)"
    client = require_redis(settings, what, client_name=f"venue-{name}")
    try:
        config = PaperConfig(
            redis=client,
            name=name,
            seed=seed,
            speed=speed,
            window_seconds=window_seconds,
            vol=vol,
            start_ts=start_ts,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    app = create_app(config)
    click.echo(f"paper venue {name!r} on http://{host}:{port} (speed {speed}x)", err=True)
    serve(app, host=host, port=port)


COMMANDS = [venue_command]
