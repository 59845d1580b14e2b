"""`neverblink bench reload`: code change -> first tick on the new code, hot vs restart.

Hot reload: a runner ticks at `tick_s` in this process (on a thread, timing
each tick); the benchmark saves a strategy file (write + close) `reloads`
times and measures from the close to the END of the first tick that ran the
new code, and counts tick slots missed. Restart: the same kind of change
shipped the old way — SIGTERM the runner process, start a new one — measured
from the close to the end of the new process's first tick, with the gap
between the old process's last tick and the new one's first.
"""

from __future__ import annotations

import random
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from control.bench.reload_setup import BenchSystem, RestartRunner, TimedLoop, bench_system
from control.bench.stats import summary_ms

STRATEGY = """
PARAMS = {{"edge": 0.02, "version": {version}}}


def decide(view):
    return []
"""


def save(path: Path, version: int) -> float:
    """Write the strategy file in place and close it; returns the close time."""
    with open(path, "w") as out:
        out.write(STRATEGY.format(version=version))
    return time.time()


def run_hot(system: BenchSystem, reloads: int, rng: random.Random) -> dict[str, Any]:
    loop = TimedLoop(system.runtime)
    loop.start_thread()
    samples: list[float] = []
    try:
        for version in range(1, reloads + 1):
            closed = save(system.strategy_file, version)
            generation = system.generation()
            samples.append(loop.wait_for_generation(generation, after=closed) - closed)
            time.sleep(rng.uniform(0.0, system.tick_s))  # decorrelate from the tick phase
    finally:
        loop.stop_thread()
    return {
        "propagation": summary_ms(samples),
        "ticks": loop.ticks_run(),
        "missed_ticks": loop.missed_slots(),
        "max_tick_gap_ms": round(loop.max_gap() * 1000, 3),
    }


def run_restart(system: BenchSystem, restarts: int, first_version: int) -> dict[str, Any]:
    propagation: list[float] = []
    gaps: list[float] = []
    missed: list[int] = []
    runner = RestartRunner(system)
    runner.start()
    try:
        for n in range(restarts):
            took, gap = runner.restart(partial(save, system.strategy_file, first_version + n))
            propagation.append(took)
            gaps.append(gap)
            missed.append(max(round(gap / system.tick_s) - 1, 0))
    finally:
        runner.stop()
    return {
        "propagation": summary_ms(propagation),
        "gap": summary_ms(gaps),
        "missed_ticks_per_restart": {
            "median": sorted(missed)[len(missed) // 2],
            "max": max(missed),
        },
        "restarts": restarts,
    }


def run_reload_bench(reloads: int = 200, restarts: int = 10, tick_s: float = 0.1) -> dict[str, Any]:
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="nb-bench-reload-") as tmp:
        root = Path(tmp)
        (root / "strategies").mkdir()
        save(root / "strategies" / "bench_strategy.py", 0)
        with bench_system(root, tick_s) as system:
            hot = run_hot(system, reloads, rng)
            restart = run_restart(system, restarts, reloads + 1)
    return {
        "benchmark": "reload",
        "tick_s": tick_s,
        "hot_reload": hot,
        "restart": restart,
        "targets": {"hot_p99_ms_max": 400, "hot_missed_ticks": 0},
    }
