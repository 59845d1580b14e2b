"""`neverblink bench wait`: attached to the `bench` group of control/cli_bench.py."""

from __future__ import annotations

import click

from control.cli_bench import bench_group
from control.cli_common import json_option, print_json


@bench_group.command("wait")
@click.option("--batches", default=2000, show_default=True, help="Batches to time (half waited)")
@click.option("--orders", default=8, show_default=True, help="create_order calls per batch")
@click.option("--replicas", default=1, show_default=True, help="Replicas to WAIT for")
@json_option
def bench_wait(batches: int, orders: int, replicas: int, as_json: bool) -> None:
    """What WAIT adds to the order-creating round trip on a Sentinel group (p50/p99).

    Starts a private master, replicas and three sentinels on loopback; times one
    tick's batch of create_order transitions with and without `WAIT replicas 250`.
    """
    from control.bench.wait_bench import run_wait_bench

    if batches < 2 or orders < 1 or replicas < 1:
        raise click.UsageError("need --batches >= 2, --orders >= 1 and --replicas >= 1")
    result = run_wait_bench(batches, orders, replicas)
    if as_json:
        print_json(result)
        return
    for name in ("without_wait", "with_wait"):
        s = result[name]
        click.echo(f"{name}: n={s['n']} p50 {s['p50_ms']} ms  p99 {s['p99_ms']} ms")
    click.echo(f"added by WAIT (paired p50): {result['added_p50_ms']} ms")


COMMANDS: list[click.Command] = []  # `bench wait` joins the bench group on import
