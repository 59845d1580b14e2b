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
    number of workers may serve one bot, on any host sharing its Redis. A
    Redis failover costs seconds: the scheduler is restarted and the
    reconciliation chain re-seeded every few seconds (runner.worker).

    The venue options are `run`'s: the reconciliation jobs this worker seeds
    open that venue; settlement jobs open the venue the runner that enqueued
    them names. With --venue live the jobs sign with this worker's key
    ($NEVERBLINK_PRIVATE_KEY or $NEVERBLINK_PRIVATE_KEY_FILE), checked at start.
    """
    from runner import jobs
    from runner.worker import BotWorker, work_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if reconcile_every < 0:
        raise click.BadParameter("must be >= 0", param_hint="--reconcile-every")
    spec = venue.spec(settings)
    if spec.kind == "live":
        require_signing_key()
    require_redis(settings, "cannot start the rq worker (its queue is in Redis)").close()
    conn = jobs.rq_connection(settings)
    queue = jobs.queue_for(conn, settings.bot)
    target = jobs.JobTarget.of(settings, spec)

    def seed() -> None:  # at start and at every maintenance: the chain survives a failover
        if reconcile_every > 0:
            jobs.seed_reconcile(conn, target, reconcile_every)

    def make(restarts: int) -> BotWorker:
        named = f"{name}-{restarts}" if name and restarts else name
        worker = BotWorker([queue], connection=conn, name=named, maintain=seed)
        shown = f"venue {spec.kind} {spec.url}"
        click.echo(f"rq worker {worker.name} on queue {queue.name} ({shown})", err=True)
        return worker

    seed()
    work_until_stopped(make, burst)
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
