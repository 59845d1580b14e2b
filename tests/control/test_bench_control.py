"""`neverblink bench control`: a small run, checking what it reports (no timing asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from control.cli import main


def test_bench_control_reports_both_planes(strategies: Path) -> None:
    args = ["bench", "control", "--commands", "4", "--tick", "0.02", "--json"]
    result = CliRunner().invoke(main, [*args, "--strategies", str(strategies)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for plane in ("redis", "file"):
        assert data[plane]["n"] == 4 and data[plane]["p99_ms"] > 0
    assert data["tick_errors"] == [] and data["ticks"] > 0
