"""The system `bench reload` runs against: private Redis, paper venue, an instrumented runner."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import redis

from exchange.paper.app import create_app
from exchange.paper.config import PaperConfig
from exchange.paper.server import BackgroundServer
from runner.build import build_runtime, close_runtime
from runner.loop import Loop
from runner.reload import read_tree
from runner.runtime import RunnerConfig, Runtime
from state_store.keys import Keys
from state_store.private_redis import RedisProcess, free_port
from state_store.settings import Settings
from state_store.status import read_runner, read_status_file

BOT = "bench-reload"


@dataclass
class BenchSystem:
    root: Path
    settings: Settings
    venue_url: str
    runtime: Runtime
    tick_s: float

    @property
    def strategy_file(self) -> Path:
        return self.settings.strategies / "bench_strategy.py"

    def generation(self) -> str:
        return read_tree(self.settings.strategies).generation


@contextmanager
def bench_system(root: Path, tick_s: float) -> Iterator[BenchSystem]:
    server = RedisProcess(root / "redis").start()
    client = redis.Redis(port=server.port, decode_responses=True)
    venue = BackgroundServer(
        create_app(PaperConfig(redis=client, name="bench", window_seconds=60)),
        port=free_port(),
    ).start()
    settings = Settings.resolve(
        home=str(root / "home"), redis_url=server.url, bot=BOT, strategies=str(root / "strategies")
    )
    config = RunnerConfig(replica="bench-hot", tick_s=tick_s, decide_budget_s=tick_s / 2)
    runtime = build_runtime(settings, config, venue.url)
    try:
        yield BenchSystem(root, settings, venue.url, runtime, tick_s)
    finally:
        close_runtime(runtime)
        venue.stop()
        client.close()
        server.stop()


class TimedLoop(Loop):
    """The runner's own loop on a thread, recording when each tick ran and on what code."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt)
        self.records: list[tuple[float, float, str]] = []  # start, end, generation
        self._thread = threading.Thread(target=self.run, name="bench-runner", daemon=True)

    def one_tick(self) -> None:
        began = time.time()
        super().one_tick()
        current = self.rt.reloader.current
        self.records.append((began, time.time(), current.generation if current else ""))

    def start_thread(self) -> None:
        self._thread.start()

    def stop_thread(self) -> None:
        self.stop.set()
        self._thread.join(timeout=30)

    def wait_for_generation(self, generation: str, after: float, timeout: float = 30.0) -> float:
        """End time of the first tick after `after` that ran `generation`."""
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            records = self.records[seen:]
            for _, end, gen in records:
                if gen == generation and end >= after:
                    return end
            seen += len(records)
            time.sleep(0.002)
        raise TimeoutError(f"generation {generation} never ran")

    def ticks_run(self) -> int:
        return len(self.records)

    def missed_slots(self) -> int:
        """Tick slots with no tick started: start-to-start gaps past 1.5 ticks."""
        tick = self.rt.config.tick_s
        starts = [r[0] for r in self.records]
        return sum(max(round((b - a) / tick) - 1, 0) for a, b in pairwise(starts))

    def max_gap(self) -> float:
        starts = [r[0] for r in self.records]
        return max((b - a for a, b in pairwise(starts)), default=0.0)


class RestartRunner:
    """A runner process restarted to ship each change, the way it was done before hot reload."""

    replica = "bench-restart"

    def __init__(self, system: BenchSystem) -> None:
        self.system = system
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.start_process_only()
        self.first_tick_end(self.system.generation())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None

    def restart(self, save: Callable[[], float]) -> tuple[float, float]:
        """Ship a change: (close -> end of the first new tick, old last tick -> new first tick)."""
        closed = save()
        generation = self.system.generation()
        self.stop()
        status = read_status_file(self.system.settings.status_file)
        last_old = status.runners[self.replica].last_tick_at
        self.start_process_only()
        first_new = self.first_tick_end(generation)
        return first_new - closed, first_new - last_old

    def start_process_only(self) -> None:
        s, system = self.system.settings, self.system
        args = [
            sys.executable, "-m", "control", "run", "--replica", self.replica,
            "--tick", str(system.tick_s), "--home", str(s.home), "--redis-url", str(s.redis_url),
            "--bot", s.bot, "--strategies", str(s.strategies), "--venue-url", system.venue_url,
        ]  # fmt: skip
        with open(system.root / "restart-runner.log", "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

    def first_tick_end(self, generation: str, timeout: float = 60.0) -> float:
        """End time of the first tick the (new) process ran on `generation`."""
        client = self.system.runtime.client
        keys = Keys(self.system.settings.bot)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            section = read_runner(client, keys, self.replica)
            if section is not None and section.tick and section.code.generation == generation:
                return section.last_tick_at
            time.sleep(0.002)
        raise TimeoutError("restarted runner never ticked on the new code")
