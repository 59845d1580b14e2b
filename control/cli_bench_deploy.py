"""`neverblink bench deploy`: attached to the `bench` group of control/cli_bench.py."""

from __future__ import annotations

import click
import redis

from control.cli_bench import bench_group
from control.cli_common import checked_redis_url, json_option, print_json


@bench_group.command("deploy")
@click.option("--deploys", default=50, show_default=True, help="git pulls to time")
@click.option("--replicas", default=2, show_default=True, help="Runner processes")
@click.option("--tick", "tick_s", default=0.1, show_default=True, help="Runner tick, seconds")
@click.option(
    "--redis-url",
    envvar="NEVERBLINK_BENCH_REDIS_URL",
    callback=checked_redis_url,
    help="Run against this Redis (the bot's keys are overwritten) "
    "[default: a private redis-server on a free loopback port]",
)
@json_option
def bench_deploy(
    deploys: int, replicas: int, tick_s: float, redis_url: str | None, as_json: bool
) -> None:
    """Deploy hook fired -> every replica's status.json shows the new git SHA.

    Real processes: paper venue, `neverblink watch` and the runner replicas on
    a deploy checkout with the hooks of deploy/hooks; each deploy is a commit
    in an origin repo and a `git pull`.
    """
    from control.bench.deploy_bench import run_deploy_bench
    from control.bench.target import bench_redis

    if deploys < 1 or replicas < 1 or tick_s <= 0:
        raise click.UsageError("--deploys and --replicas must be >= 1, --tick > 0")
    with bench_redis(redis_url) as (client, where):
        url = redis_url or _url_of(client)
        result = run_deploy_bench(url, deploys, replicas, tick_s)
    result["redis"] = where
    if as_json:
        print_json(result)
        return
    for name in ("hook_to_last_confirmed", "pull_to_last_confirmed"):
        s = result[name]
        click.echo(
            f"{name}: n={s['n']} p50 {s['p50_ms']} ms  p99 {s['p99_ms']} ms  max {s['max_ms']} ms"
        )


def _url_of(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"


COMMANDS: list[click.Command] = []  # `bench deploy` joins the bench group on import
