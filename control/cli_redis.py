"""`neverblink redis [status|stop]`: the embedded Redis of the home.

Who starts it (README, "Redis"): the processes that run the bot (`demo`,
`run`, `watch`, `worker`, `venue`) start it on first use, as a daemon shared
by the home; `neverblink redis` runs it in the foreground for a supervisor.
Reading and control commands (`state`, `ctl ...`, `serve`) never start it.
`neverblink redis stop` stops the daemon (its data stays in <home>/redis/).
"""

from __future__ import annotations

import signal
from types import FrameType

import click

from control.cli_common import settings_options
from state_store.connection import describe_target
from state_store.embedded import (
    EmbeddedRedisError,
    embedded_paths,
    embedded_running,
    run_embedded_redis_foreground,
    stop_embedded_redis,
)
from state_store.settings import Settings

# A supervisor stops us with SIGTERM (systemd) or SIGHUP (closed terminal): treat them
# like Ctrl-C, so redis is shut down cleanly (AOF fsync'd) and we exit with its code.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _embedded_only(settings: Settings, what: str) -> None:
    if settings.redis_url:
        click.echo(
            f"an external Redis is configured ({describe_target(settings)}); "
            f"`neverblink redis{what}` only manages the embedded one. Unset --redis-url / "
            "NEVERBLINK_REDIS_URL to use it.",
            err=True,
        )
        raise SystemExit(2)


@click.group("redis", invoke_without_command=True)
@settings_options
@click.pass_context
def redis_command(ctx: click.Context, settings: Settings) -> None:
    """Run the embedded Redis of the home in the foreground (Ctrl-C stops it).

    \b
    The bot's own processes (demo, run, watch, worker, venue) start the same
    server as a background daemon on first use; reading and control commands
    (state, ctl, serve) never start it. Run this instead when a supervisor
    (systemd, a Procfile) should own it. Refuses if it already runs.
    `neverblink redis status` says whether it runs; `neverblink redis stop`
    stops the daemon (data stays in <home>/redis/).
    """
    if ctx.invoked_subcommand is not None:
        return
    _embedded_only(settings, "")
    previous = {sig: signal.signal(sig, _interrupt) for sig in STOP_SIGNALS}
    try:
        code = run_embedded_redis_foreground(settings.home)
    except EmbeddedRedisError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise SystemExit(code)


@redis_command.command("status")
@settings_options
def status_command(settings: Settings) -> None:
    """Say whether the embedded Redis of the home runs (exit 0) or not (exit 3)."""
    _embedded_only(settings, " status")
    paths = embedded_paths(settings.home)
    if embedded_running(settings.home):
        pid = paths.pidfile.read_text().strip() if paths.pidfile.exists() else "?"
        click.echo(f"embedded Redis runs (pid {pid}) on {paths.socket}")
        return
    click.echo(f"embedded Redis of {settings.home} is not running")
    raise SystemExit(3)


@redis_command.command("stop")
@settings_options
def stop_command(settings: Settings) -> None:
    """Stop the embedded Redis of the home (SHUTDOWN: the AOF is fsync'd; data is kept).

    Stop the bot's processes first: runners that lose Redis go degraded.
    """
    _embedded_only(settings, " stop")
    if stop_embedded_redis(settings.home):
        click.echo(f"embedded Redis of {settings.home} stopped (data kept in its redis/)")
    else:
        click.echo(f"embedded Redis of {settings.home} was not running")


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


COMMANDS = [redis_command]
