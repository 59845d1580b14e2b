"""`neverblink bench failover`: attached to the `bench` group of control/cli_bench.py."""

from __future__ import annotations

import click

from control.cli_bench import bench_group
from control.cli_common import json_option, print_json


@bench_group.command("failover")
@click.option("--kills", default=20, show_default=True, help="SIGKILLs to measure")
@click.option("--replicas", default=3, show_default=True, help="Runner processes")
@click.option("--tick", "tick_s", default=0.2, show_default=True, help="Runner tick, seconds")
@click.option("--lease-ttl-ms", default=1000, show_default=True, help="Market lease TTL")
@click.option("--seed", default=7, show_default=True, help="Seed of victims and kill moments")
@json_option
def bench_failover(
    kills: int, replicas: int, tick_s: float, lease_ttl_ms: int, seed: int, as_json: bool
) -> None:
    """SIGKILL a replica -> the last of its markets ticked by a survivor (p50/p99).

    Starts a private redis-server, a paper venue with 8 live markets and N
    `neverblink run` processes; target: p99 <= lease TTL + one tick.
    """
    from control.bench.failover import FailoverOptions, run_failover_bench

    if kills < 1 or replicas < 2 or tick_s <= 0 or lease_ttl_ms < tick_s * 2000:
        raise click.UsageError(
            "need --kills >= 1, --replicas >= 2, --tick > 0 and --lease-ttl-ms >= 2 ticks"
        )
    options = FailoverOptions(kills, replicas, tick_s, lease_ttl_ms, seed=seed)
    result = run_failover_bench(options)
    if as_json:
        print_json(result)
        return
    t = result["takeover"]
    click.echo(
        f"takeover: n={t['n']} p50 {t['p50_ms']} ms  p99 {t['p99_ms']} ms  max {t['max_ms']} ms"
        f"  (target {result['target_ms']:g} ms: {'met' if result['met'] else 'NOT met'})"
    )
    g = result["lease_grant"]
    click.echo(f"lease grant: p50 {g['p50_ms']} ms  p99 {g['p99_ms']} ms  max {g['max_ms']} ms")


COMMANDS: list[click.Command] = []  # `bench failover` joins the bench group on import
