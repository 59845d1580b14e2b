"""`neverblink demo`: venue, runners, worker and Mission Control on this machine, supervised."""

from __future__ import annotations

import logging

import click

from control.cli_common import settings_options
from state_store.settings import Settings


@click.command("demo")
@settings_options
@click.option("--replicas", default=2, show_default=True, help="Runner replicas")
@click.option("--tick", "tick_s", default=0.5, show_default=True, help="Runner tick, seconds")
@click.option(
    "--speed", default=10.0, show_default=True,
    help="Paper venue seconds per wall second (10: a 5m window lasts 30 s)",
)  # fmt: skip
@click.option(
    "--venue-vol", default=1.2, show_default=True,
    help="Volatility the venue's books price (above the example strategy's 0.6: it trades)",
)  # fmt: skip
@click.option("--port", default=8791, show_default=True, help="Mission Control port")
@click.option("--venue-port", default=0, help="Paper venue port [default: a free port]")
@click.option("--duration", type=float, default=None, help="Stop cleanly after S seconds")
@click.option("--verbose", is_flag=True, help="Show every line of every child")
def demo_command(
    settings: Settings, replicas: int, tick_s: float, speed: float, venue_vol: float, port: int,
    venue_port: int, duration: float | None, verbose: bool,
) -> None:  # fmt: skip
    """Run the whole bot here: embedded Redis, paper venue, runners, worker, Mission Control.

    Crashed children are restarted with backoff. Edit a strategy file while it
    runs: the runners load the new version at a tick boundary and keep trading.
    Ctrl-C stops everything (runners first, so they release their leases).
    """
    from control.cli_errors import OperatorError
    from control.demo import DemoError, DemoOptions, run_demo

    if replicas < 1 or tick_s <= 0 or speed <= 0 or venue_vol <= 0:
        raise click.UsageError("need --replicas >= 1 and --tick, --speed, --venue-vol > 0")
    if duration is not None and duration <= 0:
        raise click.UsageError("--duration must be > 0")
    logging.basicConfig(level=logging.WARNING)
    opts = DemoOptions(
        settings, replicas=replicas, tick_s=tick_s, speed=speed, venue_vol=venue_vol, port=port,
        venue_port=venue_port, duration=duration, verbose=verbose,
    )  # fmt: skip
    try:
        code = run_demo(opts, lambda line: click.echo(line))
    except DemoError as exc:
        raise OperatorError(str(exc)) from exc
    raise SystemExit(code)


COMMANDS = [demo_command]
