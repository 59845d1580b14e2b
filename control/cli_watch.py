"""`neverblink watch`: the publisher (runner.publish) as its own process.

One publisher per bot holds the lease: this watch, or, when none runs, one
runner's in-process copy of the same code; the others are standbys.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click

from control.cli_common import settings_options
from state_store.settings import Settings


@click.command("watch")
@settings_options
@click.option("--rescan", default=30.0, show_default=True, help="Full rescan every S seconds")
@click.option("--quiet", default=0.05, show_default=True, help="Settle window of a save, seconds")
@click.option(
    "--validate-timeout", default=5.0, show_default=True, help="Child import timeout, seconds"
)
@click.option(
    "--hook-grace",
    default=10.0,
    show_default=True,
    help="Deploy checkout: accept a commit's tree this long after HEAD moved without the hook",
)
@click.option("--lease-ttl", default=5.0, show_default=True, help="Watcher lease TTL, seconds")
@click.option("--poll", is_flag=True, help="Poll the file system instead of inotify (NFS, ...)")
def watch_command(
    settings: Settings,
    rescan: float,
    quiet: float,
    validate_timeout: float,
    hook_grace: float,
    lease_ttl: float,
    poll: bool,
) -> None:
    """Validate each complete strategies tree once and publish it to every runner.

    \b
    Saves publish once written (no writer left, quiet, stable). In a deploy
    checkout (hooks from deploy/hooks installed) only a tree that is exactly
    HEAD's commit, marked complete by the hook, is published. Runners adopt
    the published generation at their next tick when their own folder hashes
    the same; `neverblink ctl reload` forces a revalidation and a new seq.
    Without a watch, one runner runs this same publisher in-process.
    """
    from runner.publish.publisher import Publisher, PublishOptions
    from state_store.connection import connect

    if min(rescan, quiet, validate_timeout, lease_ttl) <= 0 or hook_grace < 0:
        raise click.UsageError("durations must be > 0")
    if not settings.strategies.is_dir():
        raise click.UsageError(f"strategies folder {settings.strategies} does not exist")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # a line per batch is noise
    options = PublishOptions(
        quiet=quiet,
        rescan=rescan,
        validate_timeout=validate_timeout,
        lease_ttl=lease_ttl,
        hook_grace=hook_grace,
        force_polling=True if poll else None,
    )
    watcher = Publisher(settings, connect(settings), options)

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        watcher.request_stop()  # no logging or locks in a signal handler

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    watcher.run()
    logging.getLogger(__name__).info("watcher stopped")


COMMANDS = [watch_command]
