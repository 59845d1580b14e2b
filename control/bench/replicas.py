"""Several runner replicas as real processes, with a paper venue and an rq worker.

Used by `neverblink bench failover` and by the multi-replica chaos tests:

    with Cluster(ClusterConfig(root, redis_url, strategies)) as cluster:
        cluster.wait_until(cluster.balanced, 30)
        cluster.runners["r2"].kill()

Every process writes its output to `<root>/logs/<name>.log`. All replicas
share one home (`<root>/home`) and the Redis at `redis_url`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import redis

from control.bench.http_wait import wait_http
from control.bench.roomy_risk import ROOMY_RISK, set_risk_limits
from exchange.client import ClobClient
from state_store.connection import connect
from state_store.keys import Keys
from state_store.private_redis import free_port
from state_store.settings import Settings
from state_store.status import read_runner


@dataclass(frozen=True)
class ClusterConfig:
    root: Path
    redis_url: str
    strategies: Path
    replicas: int = 3
    tick_s: float = 0.2
    lease_ttl_ms: int = 1000
    window_seconds: int = 20
    worker: bool = True
    reconcile_every: int = 5
    bot: str = "default"
    venue_latency_ms: float = 0.0
    venue_redis_url: str = ""  # the venue's own Redis ("": the bot's); never a Sentinel URL
    #: risk limits set before the runners start: chaos runs trade far past the conservative
    #: defaults (state_store.risk), which would refuse their orders mid-run
    risk: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: ROOMY_RISK)


class Child:
    """One process of the cluster; signals go to the process only."""

    def __init__(self, name: str, args: list[str], log: Path) -> None:
        self.name = name
        self.args = args
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Child:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, env=env)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not running"
        return self.proc.pid

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM and wait; SIGKILL if it does not stop in time. Returns the exit code."""
        if self.proc is None:
            return 0
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        proc.terminate()
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def neverblink(*args: str) -> list[str]:
    return [sys.executable, "-m", "control", *args]


class Cluster:
    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.keys = Keys(config.bot)
        self.venue_port = free_port()
        self.venue_url = f"http://127.0.0.1:{self.venue_port}"
        self.home = config.root / "home"
        self.logs = config.root / "logs"
        self.redis = connect(self.settings())  # a redis+sentinel:// URL too
        self.venue: Child | None = None
        self.worker: Child | None = None
        self.runners: dict[str, Child] = {}

    # -- processes -------------------------------------------------------------
    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()

    def start(self) -> Cluster:
        self.logs.mkdir(parents=True, exist_ok=True)
        c = self.config
        venue_args = [
            sys.executable, "-m", "control.bench.paper_venue",
            "--redis-url", c.venue_redis_url or c.redis_url,
            "--port", str(self.venue_port), "--window-seconds", str(c.window_seconds),
            "--latency-ms", str(c.venue_latency_ms),
        ]  # fmt: skip
        self.venue = Child("venue", venue_args, self.logs / "venue.log").start()
        wait_http(self.venue_url + "/time")
        if c.worker:
            args = self._settings_args("worker", "--venue-url", self.venue_url)
            args += ["--reconcile-every", str(c.reconcile_every)]
            self.worker = Child("worker", args, self.logs / "worker.log").start()
        self.set_risk_limits()
        for i in range(1, c.replicas + 1):
            self.start_runner(f"r{i}")
        return self

    def set_risk_limits(self) -> None:
        """The configured limits (default ROOMY_RISK), as `neverblink ctl risk set` sets them."""
        set_risk_limits(self.settings(), self.config.risk)

    def _settings_args(self, command: str, *more: str) -> list[str]:
        c = self.config
        return neverblink(
            command, "--home", str(self.home), "--redis-url", c.redis_url, "--bot", c.bot,
            "--strategies", str(c.strategies), *more,
        )  # fmt: skip

    def start_runner(self, replica: str) -> Child:
        c = self.config
        args = self._settings_args(
            "run", "--replica", replica, "--venue-url", self.venue_url, "--tick", str(c.tick_s),
            "--lease-ttl-ms", str(c.lease_ttl_ms),
        )  # fmt: skip
        child = Child(replica, args, self.logs / f"{replica}.log").start()
        self.runners[replica] = child
        return child

    def stop_runners(self) -> dict[str, int]:
        return {name: child.terminate() for name, child in self.runners.items()}

    def stop(self) -> None:
        self.stop_runners()
        for child in (self.worker, self.venue):
            if child is not None:
                child.terminate()
        self.redis.close()

    def settings(self) -> Settings:
        c = self.config
        return Settings(self.home, c.redis_url, c.bot, c.strategies)

    # -- observations ----------------------------------------------------------
    def live_markets(self) -> list[str]:
        return sorted(self.live_windows()[1])

    def live_windows(self) -> tuple[float, dict[str, float]]:
        """The venue's time and its live markets with their end (venue seconds)."""
        with ClobClient(self.venue_url) as venue:
            now = venue.server_time()
            windows = venue.list_windows()
        return now, {w.slug: float(w.end_ts) for w in windows if w.start_ts <= now < w.end_ts}

    def holders(self, markets: list[str]) -> dict[str, str | None]:
        """Market -> replica holding its lease (None: free)."""
        values = self.redis.mget([self.keys.lease(m) for m in markets])
        pairs = zip(markets, values, strict=True)
        return {m: (str(v).rpartition("|")[0] if v else None) for m, v in pairs}

    def heartbeat(self, replica: str) -> tuple[float, list[str]] | None:
        """(last_tick_at, markets) from a replica's heartbeat hash; None when it expired."""
        section = read_runner(self.redis, self.keys, replica)
        if section is None:
            return None
        return section.last_tick_at, section.markets

    def ticking(self, replica: str, ticks: int = 1) -> bool:
        """The running process of `replica` has ticked at least `ticks` times."""
        child = self.runners.get(replica)
        if child is None or child.proc is None:
            return False
        raw = cast(dict[str, str], self.redis.hgetall(self.keys.runner(replica)))
        return raw.get("pid") == str(child.pid) and int(raw.get("tick") or 0) >= ticks

    def balanced(self) -> bool:
        """Every live market leased, every running replica holding its floor share."""
        markets = self.live_markets()
        held = self.holders(markets)
        running = [r for r, child in self.runners.items() if child.proc is not None]
        counts = {r: sum(1 for h in held.values() if h == r) for r in running}
        floor = len(markets) // max(len(running), 1)
        return all(held.values()) and all(n >= floor for n in counts.values())

    @staticmethod
    def wait_until(check: Callable[[], bool], timeout: float, poll: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(poll)
        return check()


def lease_grants(client: redis.Redis, keys: Keys) -> list[dict[str, Any]]:
    """Every entry of the lease log: market, replica, token (int), ts (server time)."""
    rows = cast(list[tuple[str, dict[str, str]]], client.xrange(keys.lease_log))
    return [
        {"market": f["market"], "replica": f["replica"], "token": int(f["token"]),
         "ts": float(f["ts"])}
        for _, f in rows
    ]  # fmt: skip
