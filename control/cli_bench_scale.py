"""`neverblink bench scale`: attached to the `bench` group of control/cli_bench.py."""

from __future__ import annotations

import click

from control.cli_bench import bench_group
from control.cli_common import json_option, print_json


@bench_group.command("scale")
@click.option("--bots", default=6, show_default=True, help="Bots, one runner each")
@click.option("--assets", default=1, show_default=True, help="Assets per bot (2 markets each)")
@click.option("--seconds", default=20.0, show_default=True, help="Measured seconds per topology")
@click.option("--masters", default=3, show_default=True, help="Masters of the Cluster")
@click.option(
    "--topology",
    "topologies",
    type=click.Choice(["single", "cluster"]),
    multiple=True,
    help="Run only these [default: both, side by side]",
)
@json_option
def bench_scale(
    bots: int, assets: int, seconds: float, masters: int, topologies: tuple[str, ...],
    as_json: bool,
) -> None:  # fmt: skip
    """Sustained ticks/s, p99 tick and Redis CPU per 1,000 ticks: one Redis vs a Cluster.

    Starts private redis-servers (one plain; a Cluster of --masters on
    loopback), a paper venue and a runner per bot, ticks them round-robin in
    this process (method: control/bench/scale_bench.py, BENCHMARKS.md).
    """
    from control.bench.scale_bench import TOPOLOGIES, ScaleOptions, run_scale_bench

    if bots < 1 or assets < 1 or seconds <= 0 or masters < 3:
        raise click.UsageError("need --bots >= 1, --assets >= 1, --seconds > 0, --masters >= 3")
    options = ScaleOptions(bots, assets, seconds, masters, topologies or TOPOLOGIES)
    result = run_scale_bench(options)
    if as_json:
        print_json(result)
        return
    for r in result["results"].values():
        t = r["tick"]
        click.echo(
            f"{r['state_redis']}: {r['bots']} bots x {r['markets_per_bot']} markets: "
            f"{r['ticks_per_s']} ticks/s, tick p50 {t['p50_ms']} ms p99 {t['p99_ms']} ms, "
            f"Redis CPU {r['redis_cpu_s_per_1000_ticks']} s per 1,000 ticks"
        )


COMMANDS: list[click.Command] = []  # `bench scale` joins the bench group on import
