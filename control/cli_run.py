"""`neverblink run`: one runner replica."""

from __future__ import annotations

import logging
import os
import signal

import click

from control.cli_common import settings_options
from control.cli_discovery_options import DiscoveryChoice, discovery_options
from control.cli_stream_options import StreamChoice, stream_options
from control.cli_venue_options import VenueChoice, venue_options
from state_store.settings import Settings


@click.command("run")
@settings_options
@click.option("--replica", required=True, help="Replica id, unique per runner process")
@click.option("--tick", "tick_s", default=1.0, show_default=True, help="Seconds per tick")
@click.option("--strategy", "only", multiple=True, help="Run only this strategy (repeat)")
@venue_options
@stream_options
@discovery_options
@click.option(
    "--venue-heartbeat",
    type=click.Choice(["off", "failover", "owner"]),
    default="off",
    show_default=True,
    help="Order heartbeat (the venue cancels every order ~10 s after a missed beat): one "
    "replica beats; failover: another takes over when it dies; owner: nobody does, the "
    "venue cancels the book",
)
@click.option("--lease-ttl-ms", default=5000, show_default=True, help="Market lease TTL")
@click.option("--probation", default=20, show_default=True, help="Ticks of probation")
@click.option("--max-ticks", type=int, default=None, help="Stop after this many ticks")
@click.option(
    "--wait-replicas",
    default="auto",
    show_default=True,
    help="Redis replicas that must hold a new order before it is posted (WAIT); auto: on a "
    "redis+sentinel:// URL every replica connected to the master (at least one), else 0 "
    "(no wait)",
)
@click.option(
    "--wait-timeout-ms",
    type=click.IntRange(min=1),
    default=250,
    show_default=True,
    help="How long to WAIT for them; orders no replica took in time are rejected, not posted",
)
def run_command(
    settings: Settings,
    replica: str,
    tick_s: float,
    only: tuple[str, ...],
    venue: VenueChoice,
    streams: StreamChoice,
    discovery: DiscoveryChoice,
    venue_heartbeat: str,
    lease_ttl_ms: int,
    probation: int,
    max_ticks: int | None,
    wait_replicas: str,
    wait_timeout_ms: int,
) -> None:
    """Run one runner replica: tick, trade, reload strategies at tick boundaries."""
    from runner.build import build_runtime, close_runtime
    from runner.loop import Loop
    from runner.runtime import RunnerConfig, venue_deadline

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    if tick_s <= 0:
        raise click.BadParameter("must be > 0", param_hint="--tick")
    spec = venue.spec(settings)
    streams = streams.hashed(spec.kind == "paper")  # the paper venue hashes its books
    config = RunnerConfig(
        replica=replica,
        tick_s=tick_s,
        strategies=only,
        lease_ttl_ms=max(lease_ttl_ms, int(tick_s * 2000)),
        decide_budget_s=min(0.25, tick_s / 2),
        probation_ticks=probation,
        venue_deadline_s=venue_deadline(tick_s),
        venue_heartbeat=venue_heartbeat,
        wait_replicas=replicas_to_wait_for(wait_replicas, settings),
        wait_timeout_ms=wait_timeout_ms,
    )
    early: list[int] = []  # SIGTERM/Ctrl-C while starting: stop before the first tick, cleanly
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda received, _frame: early.append(received))
    logging.getLogger(__name__).info("runner %s starting (pid %d)", replica, os.getpid())
    runtime = build_runtime(
        settings, config, venue_spec=spec, feed_config=streams.feed_config(),
        discovery=discovery.config(venue),
    )  # fmt: skip
    loop = Loop(runtime, max_ticks=max_ticks)
    loop.install_signals()
    if early:
        loop.signalled = early[0]
    try:
        code = loop.run()
    finally:
        close_runtime(runtime)
    raise SystemExit(code)


def replicas_to_wait_for(option: str, settings: Settings) -> int:
    """--wait-replicas: a count, or auto (every connected replica when the URL names a
    replicated topology, runner.orders.ALL_CONNECTED)."""
    from runner.orders import ALL_CONNECTED
    from state_store.connection import has_replicas

    if option == "auto":
        return ALL_CONNECTED if has_replicas(settings.redis_url) else 0
    try:
        count = int(option)
    except ValueError:
        raise click.BadParameter("auto or a count >= 0", param_hint="--wait-replicas") from None
    if count < 0:
        raise click.BadParameter("auto or a count >= 0", param_hint="--wait-replicas")
    return count


COMMANDS = [run_command]
