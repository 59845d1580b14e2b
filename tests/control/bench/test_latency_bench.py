"""`bench latency` end to end, briefly: every change is answered by an order at the venue."""

from __future__ import annotations

import json

from click.testing import CliRunner

from control.cli import main


def test_bench_latency_pairs_each_change_with_its_order_in_both_modes() -> None:
    args = ["bench", "latency", "--events", "4", "--markets", "2", "--spread", "0.1", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # the in-process venue may log on stderr
    for mode in ("event", "timer"):
        assert report[mode]["lost"] == 0 and report[mode]["latency"]["n"] >= 4
        assert report[mode]["markets_changed"] == 2
