"""`neverblink bench ...`: benchmarks; method and figures in BENCHMARKS.md."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from control.cli_common import checked_redis_url, json_option, print_json


def _report(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    for key, value in result.items():
        click.echo(f"{key:>12}: {value}")


@click.group("bench")
def bench_group() -> None:
    """Benchmarks (figures and method in BENCHMARKS.md)."""


@bench_group.command("store")
@click.option("--markets", default=100, show_default=True, help="Markets in the snapshot")
@click.option("--iterations", default=1000, show_default=True, help="Ticks to time")
@click.option(
    "--redis-url",
    envvar="NEVERBLINK_BENCH_REDIS_URL",
    callback=checked_redis_url,
    help="Run against this Redis (only nb:{bench}:* keys are touched) "
    "[default: a private redis-server on a free loopback port]",
)
@json_option
def bench_store(markets: int, iterations: int, redis_url: str | None, as_json: bool) -> None:
    """One tick of store work (snapshot + commits) vs a bare redis-py pipeline."""
    from control.bench.store_bench import run_store_bench
    from control.bench.target import bench_redis

    with bench_redis(redis_url) as (client, where):
        result = run_store_bench(client, markets, iterations)
    result["redis"] = where
    _report(result, as_json)


@bench_group.command("risk")
@click.option("--iterations", default=1000, show_default=True, help="Creates of 4 to time")
@click.option(
    "--redis-url",
    envvar="NEVERBLINK_BENCH_REDIS_URL",
    callback=checked_redis_url,
    help="Run against this Redis (only nb:{bench-risk}:* keys are touched) "
    "[default: a private redis-server on a free loopback port]",
)
@json_option
def bench_risk(iterations: int, redis_url: str | None, as_json: bool) -> None:
    """Creating 4 orders with the risk check vs without, windows of 10/100/400 orders."""
    from control.bench.risk_bench import run_risk_bench
    from control.bench.target import bench_redis

    with bench_redis(redis_url) as (client, where):
        result = run_risk_bench(client, iterations=iterations)
    result["redis"] = where
    _report(result, as_json)


@bench_group.command("reload")
@click.option("--reloads", default=200, show_default=True, help="Hot reloads to time")
@click.option("--restarts", default=10, show_default=True, help="Process restarts to time")
@click.option("--tick", "tick_s", default=0.1, show_default=True, help="Runner tick, seconds")
@json_option
def bench_reload(reloads: int, restarts: int, tick_s: float, as_json: bool) -> None:
    """Code change -> first tick on the new code: hot reload vs restarting the runner."""
    from control.bench.reload_bench import run_reload_bench

    _report(run_reload_bench(reloads, restarts, tick_s), as_json)


@bench_group.command("host")
@click.option(
    "--strategies",
    "folder",
    default="strategies",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Strategies folder whose strategies decide",
)
@click.option("--markets", default=100, show_default=True, help="Markets in every view")
@click.option("--ticks", default=300, show_default=True, help="Ticks to time")
@click.option("--rounds", default=20, show_default=True, help="Reloads to time")
@json_option
def bench_host(folder: Path, markets: int, ticks: int, rounds: int, as_json: bool) -> None:
    """The strategy host's cost: decide in-process vs through the host (paired per tick),
    validate+load in-process vs prepare+adopt, and a hung decide's cost to the tick."""
    from runner.host import bench

    if markets < 1 or ticks < 1 or rounds < 1:
        raise click.UsageError("--markets, --ticks and --rounds must be >= 1")
    logging.basicConfig(level=logging.ERROR)
    result = {
        "tick": bench.bench_host(folder, markets=markets, ticks=ticks),
        "reload": bench.bench_reload(folder, rounds=rounds),
        "hang": bench.bench_hang(folder, rounds=min(rounds, 10)),
    }
    _report(result, as_json)


COMMANDS = [bench_group]
