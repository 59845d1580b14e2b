"""`neverblink redis`: run the embedded Redis of the home in the foreground."""

from __future__ import annotations

import signal
from types import FrameType

import click

from control.cli_common import settings_options
from state_store.connection import describe_target
from state_store.embedded import EmbeddedRedisError, run_embedded_redis_foreground
from state_store.settings import Settings

# A supervisor stops us with SIGTERM (systemd) or SIGHUP (closed terminal): treat them
# like Ctrl-C, so redis is shut down cleanly (AOF fsync'd) and we exit with its code.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@click.command("redis")
@settings_options
def redis_command(settings: Settings) -> None:
    """Run the embedded Redis of the home in the foreground (Ctrl-C stops it).

    Other commands start the same server as a background daemon on first use;
    run this instead when a supervisor (systemd, a Procfile) should own it.
    Refuses if the embedded Redis of this home already runs.
    """
    if settings.redis_url:
        click.echo(
            f"an external Redis is configured ({describe_target(settings)}); "
            "`neverblink redis` only runs the embedded one. Unset --redis-url / "
            "NEVERBLINK_REDIS_URL to use it.",
            err=True,
        )
        raise SystemExit(2)
    previous = {sig: signal.signal(sig, _interrupt) for sig in STOP_SIGNALS}
    try:
        code = run_embedded_redis_foreground(settings.home)
    except EmbeddedRedisError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise SystemExit(code)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


COMMANDS = [redis_command]
