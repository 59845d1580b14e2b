"""`neverblink replay FILE`: a recorded control sequence against a dry-run bot, step by step."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from control.cli_common import checked_redis_url, json_option, print_json, settings_options
from state_store.settings import Settings

COLUMNS = ["step", "command", "who", "outcome", "version", "paused", "orders", "fills"]
COLUMNS += ["pending", "positions", "config in force", "notes"]


@click.command("replay")
@click.argument("recording", type=click.Path(dir_okay=False, path_type=Path))
@settings_options
@click.option("--ticks", default=3, show_default=True, help="Ticks after each command")
@click.option("--tick", "tick_s", default=5.0, show_default=True, help="Venue seconds per tick")
@click.option("--window-seconds", default=60, show_default=True, help="Paper window length")
@click.option("--seed", default=0, show_default=True, help="Paper venue seed")
@click.option(
    "--sandbox-redis",
    callback=checked_redis_url,
    help="Redis URL for the dry run (fresh bot id, keys deleted afterwards) "
    "[default: a private redis-server on a free loopback port]",
)
@click.option("--verbose", is_flag=True, help="Show the dry-run runner's log")
@json_option
def replay_command(
    recording: Path,
    settings: Settings,
    ticks: int,
    tick_s: float,
    window_seconds: int,
    seed: int,
    sandbox_redis: str | None,
    verbose: bool,
    as_json: bool,
) -> None:
    """Replay RECORDING (audit.jsonl format) against a dry-run bot and report each step.

    The dry run never touches this bot's Redis, home or venue: fresh bot id, the
    paper venue in-process, a clock that jumps TICK venue seconds per tick.
    Strategies come from --strategies.
    """
    from control.replay import ReplayError, ReplayOptions, replay, summary_rows

    if ticks < 0 or tick_s <= 0:
        raise click.UsageError("--ticks must be >= 0 and --tick > 0")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR, format="%(name)s %(message)s"
    )
    options = ReplayOptions(
        strategies=settings.strategies,
        ticks=ticks,
        tick_s=tick_s,
        window_seconds=window_seconds,
        seed=seed,
        redis_url=sandbox_redis,
    )
    try:
        report = replay(recording, options)
    except ReplayError as exc:
        click.echo(f"cannot replay: {exc}", err=True)
        raise SystemExit(1) from exc
    if as_json:
        print_json(report.to_json())
        return
    from control.status_render import make_console, table

    console = make_console()
    console.print(f"replay of {report.file} as bot {report.bot} ({report.redis})", highlight=False)
    console.print(f"code at start: {', '.join(report.initial_code) or 'none'}", highlight=False)
    console.print(table("Steps", COLUMNS, summary_rows(report)))


COMMANDS = [replay_command]
