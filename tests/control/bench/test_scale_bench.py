from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from control.cli import main


@pytest.mark.chaos  # starts redis-servers, a paper venue and a strategy host per topology
def test_bench_scale_ticks_bots_on_one_redis_and_on_a_cluster() -> None:
    args = ["bench", "scale", "--bots", "1", "--seconds", "0.5", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    single, cluster = report["results"]["single"], report["results"]["cluster"]
    assert single["state_redis"] == "single (1 node)"
    assert cluster["state_redis"] == "cluster (3 nodes)"
    for side in (single, cluster):
        assert side["ticks"] == side["tick"]["n"] >= 1
        assert side["redis_cpu_s_per_1000_ticks"] > 0 and side["ticks_per_s"] > 0
    assert report["cluster_vs_single"]["ticks_per_s"] > 0


def test_bench_scale_refuses_a_cluster_of_fewer_than_three_masters() -> None:
    result = CliRunner().invoke(main, ["bench", "scale", "--masters", "2"])
    assert result.exit_code == 2 and "--masters >= 3" in result.output
