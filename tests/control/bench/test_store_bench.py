from __future__ import annotations

import json

import redis
from click.testing import CliRunner

from control.bench.store_bench import run_store_bench
from control.cli import main


def test_store_bench_reports_both_sides_and_leaves_other_keys(real_redis: redis.Redis) -> None:
    real_redis.set("nb:{default}:pos:keep-me", "1")
    result = run_store_bench(real_redis, markets=10, iterations=20)
    assert result["store"]["n"] == result["floor"]["n"] == 20
    assert result["store"]["p50_ms"] > 0 and result["ratio_p50"] > 0
    assert real_redis.get("nb:{default}:pos:keep-me") == "1"


def test_bench_store_cli_runs_on_a_private_server() -> None:
    result = CliRunner().invoke(
        main, ["bench", "store", "--markets", "5", "--iterations", "10", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["markets"] == 5 and "private redis-server" in report["redis"]
