"""`neverblink worker`: an rq worker (with its scheduler) for the bot's background jobs."""

from __future__ import annotations

import logging

import click

from control.cli_common import require_redis, settings_options
from control.cli_venue_options import VenueChoice, venue_options
from state_store.settings import Settings


@click.command("worker")
@settings_options
@venue_options
@click.option(
    "--reconcile-every",
    type=int,
    default=30,
    show_default=True,
    help="Seconds between reconciliation runs (0: do not schedule them)",
)
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then exit")
@click.option("--name", default=None, help="Worker name, unique per process [default: random]")
def worker_command(
    settings: Settings, venue: VenueChoice, reconcile_every: int, burst: bool, name: str | None
) -> None:
    """Run settlement and reconciliation jobs from the queue nb-<bot> (Ctrl-C: finish, stop).

    Runners enqueue one settlement job per closed window; this worker runs
    them when due (its scheduler moves scheduled jobs to the queue) and
    schedules the periodic reconciliation of Redis against the venue. Any
    number of workers may serve one bot, on any host sharing its Redis.

    The venue options are `run`'s: the reconciliation jobs this worker seeds
    open that venue; settlement jobs open the venue the runner that enqueued
    them names. With --venue live the jobs sign with this worker's key
    ($NEVERBLINK_PRIVATE_KEY or $NEVERBLINK_PRIVATE_KEY_FILE), checked at start.
    """
    from rq import Worker

    from runner import jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if reconcile_every < 0:
        raise click.BadParameter("must be >= 0", param_hint="--reconcile-every")
    spec = venue.spec(settings)
    if spec.kind == "live":
        require_signing_key()
    require_redis(settings, "cannot start the rq worker (its queue is in Redis)").close()
    conn = jobs.rq_connection(settings)
    queue = jobs.queue_for(conn, settings.bot)
    if reconcile_every > 0:
        jobs.seed_reconcile(conn, jobs.JobTarget.of(settings, spec), reconcile_every)
    worker = Worker([queue], connection=conn, name=name)
    shown = f"venue {spec.kind} {spec.url}"
    click.echo(f"rq worker {worker.name} on queue {queue.name} ({shown})", err=True)
    worker.work(with_scheduler=True, burst=burst, logging_level="INFO")
    conn.close()


def require_signing_key() -> None:
    """Refuse to start a live worker whose jobs could not sign (the error names the
    key's source, never the key)."""
    from exchange.live.keys import SigningKeyError, load_account

    try:
        load_account()
    except SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None


COMMANDS = [worker_command]
