"""`neverblink bench control`: command issued -> end of the first tick that obeys it.

A dry-run runner (control.replay_sandbox: fresh bot id, paper venue in-process,
private redis-server) ticks every `tick_s` seconds on a thread. The bench
alternates pause/resume through the control service, first on the Redis plane
(Redis + control.json), then on the file plane (a service whose Redis is
unreachable, so it writes control.json alone while the runner still reads
both copies: the file's higher version wins). For each command it waits for
the first tick whose desired state has that version and records the time from
just before `apply()` to the end of that tick. A random pause between commands
spreads them over the tick phase. Expect about tick_s / 2 + one tick.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from control.bench.stats import summary_ms
from control.replay_sandbox import Sandbox, SandboxOptions, sandbox
from control.service import ControlService
from state_store.private_redis import free_port

OBEY_TIMEOUT_S = 10.0


@dataclass
class _Ticks:
    """(version in force, tick end time) of every tick, appended by the runner thread."""

    done: list[tuple[int, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, version: int, timeout: float) -> float | None:
        """End time of the first tick that ran with `version` (or later), waiting for it."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                ends = [ended for seen, ended in self.done if seen >= version]
                if ends:
                    return min(ends)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)


def _tick_loop(box: Sandbox, tick_s: float, ticks: _Ticks, stop: threading.Event) -> None:
    from runner.tick import run_tick

    next_at = time.monotonic()
    while not stop.is_set():
        box.clock.advance(tick_s)
        try:
            run_tick(box.runtime)
        except Exception as exc:  # reported in the result; the bench must not hang
            ticks.errors.append(repr(exc)[:200])
        ended = time.monotonic()
        desired = box.runtime.last_desired
        with ticks.cond:
            ticks.done.append((desired.version if desired else 0, ended))
            ticks.cond.notify_all()
        next_at = max(next_at + tick_s, ended)
        stop.wait(max(0.0, next_at - time.monotonic()))


def _measure(service: ControlService, ticks: _Ticks, commands: int, tick_s: float) -> list[float]:
    rng = random.Random(7)
    samples = []
    for i in range(commands):
        time.sleep(rng.uniform(0, tick_s))
        issued = time.monotonic()
        result = service.apply("pause" if i % 2 == 0 else "resume", actor="bench")
        obeyed = ticks.wait_for(result.state.version, OBEY_TIMEOUT_S)
        if obeyed is None:
            raise RuntimeError(f"no tick obeyed version {result.state.version} in time")
        samples.append(obeyed - issued)
    return samples


def run_control_bench(
    strategies: Path, commands: int = 100, tick_s: float = 0.05
) -> dict[str, Any]:
    """p50/p99/max of command -> obeying tick, per plane."""
    with sandbox(SandboxOptions(strategies=strategies)) as box:
        ticks, stop = _Ticks(), threading.Event()
        thread = threading.Thread(target=_tick_loop, args=(box, tick_s, ticks, stop), daemon=True)
        thread.start()
        down = replace(box.settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
        file_service = ControlService(down, probe_timeout=0.2)
        try:
            redis_samples = _measure(box.service, ticks, commands, tick_s)
            file_samples = _measure(file_service, ticks, commands, tick_s)
        finally:
            stop.set()
            thread.join(timeout=10)
        return {
            "tick_s": tick_s,
            "commands_per_plane": commands,
            "redis": summary_ms(redis_samples),
            "file": summary_ms(file_samples),
            "ticks": len(ticks.done),
            "tick_errors": ticks.errors[:5],
            "where": box.redis_where,
        }
