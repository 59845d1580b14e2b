from __future__ import annotations

import pytest

from control.bench.reload_bench import run_reload_bench


@pytest.mark.timeout(180)
def test_reload_bench_measures_both_ways_of_shipping() -> None:
    result = run_reload_bench(reloads=3, restarts=1, tick_s=0.1)
    hot, restart = result["hot_reload"], result["restart"]
    assert hot["propagation"]["n"] == 3 and hot["ticks"] > 3
    assert hot["propagation"]["p50_ms"] > 0
    assert restart["propagation"]["n"] == 1 and restart["gap"]["p50_ms"] > 0
