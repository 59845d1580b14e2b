"""`neverblink bench control`: attached to the `bench` group of control/cli_bench.py."""

from __future__ import annotations

import logging

import click

from control.cli_bench import bench_group
from control.cli_common import json_option, print_json, settings_options
from state_store.settings import Settings


@bench_group.command("control")
@settings_options
@click.option("--commands", default=100, show_default=True, help="Commands per plane")
@click.option("--tick", "tick_s", default=0.05, show_default=True, help="Runner tick, seconds")
@json_option
def bench_control(settings: Settings, commands: int, tick_s: float, as_json: bool) -> None:
    """Command issued -> first tick that obeys it, on the Redis plane and the file plane.

    Runs a dry-run runner in-process (fresh bot id, paper venue, private
    redis-server); strategies come from --strategies.
    """
    from control.bench.control_bench import run_control_bench

    if commands < 1 or tick_s <= 0:
        raise click.UsageError("--commands must be >= 1 and --tick > 0")
    logging.basicConfig(level=logging.ERROR)
    result = run_control_bench(settings.strategies, commands, tick_s)
    if as_json:
        print_json(result)
        return
    for plane in ("redis", "file"):
        s = result[plane]
        click.echo(
            f"{plane:>5}: n={s['n']} p50 {s['p50_ms']} ms  p99 {s['p99_ms']} ms  "
            f"max {s['max_ms']} ms  (tick {tick_s * 1000:g} ms)"
        )


COMMANDS: list[click.Command] = []  # `bench control` joins the bench group on import
