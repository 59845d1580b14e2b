"""`neverblink bench scale`: bots x markets per bot on one Redis and on a Redis Cluster.

For each topology (a private plain redis-server; a Cluster of N masters on
loopback, `state_store.private_topology.ClusterGroup`) the same set-up runs:
`bots` bots, each with its own paper venue (in-process HTTP server, real
clock, `assets` assets: two markets each, 5m and 15m) and a runner built by
`build_runtime` (strategy host process included) trading an always-buy
strategy. One process ticks the runners round-robin for `seconds` and
measures every tick (`run_tick`); Redis CPU is the `used_cpu_user +
used_cpu_sys` delta of the state nodes (not the venues' Redis) over the run,
process CPU this process's (the runners and the in-process paper venues; the
strategy host processes are not counted).
The rq jobs go to the venues' plain Redis (the jobs Redis a Cluster needs).

The ticks run one after the other in one process, so ticks/s is what one
runner process sustains (it uses one core): the per-tick Redis cost and
latency are what differ between the topologies.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import redis

from control.bench.stats import summary_ms
from exchange.factory import VenueSpec
from exchange.paper import BackgroundServer, PaperConfig, create_app
from runner.build import build_runtime, close_runtime
from runner.runtime import RunnerConfig, Runtime
from runner.tick import run_tick
from state_store.private_redis import RedisProcess, free_port
from state_store.private_topology import ClusterGroup
from state_store.settings import Settings

TOPOLOGIES = ("single", "cluster")
ASSETS = ("btc", "eth", "sol", "xrp")
WINDOW_S = 60  # 5m windows of 60 s (15m: 180 s): windows roll during a run

ALWAYS_BUY = """
from decimal import Decimal

from state_store.models import Intent

PARAMS = {"size": 5}


def decide(view):
    out = []
    for m in view.markets:
        ask = m.up.best_ask
        if ask is not None and ask < Decimal("0.99"):
            out.append(Intent("buy", m.market, "Up", "BUY", ask, Decimal(5), "FAK"))
    return out
"""


@dataclass(frozen=True)
class ScaleOptions:
    bots: int = 6
    assets: int = 1  # markets per bot: 2 per asset
    seconds: float = 20.0
    masters: int = 3
    topologies: tuple[str, ...] = TOPOLOGIES


def run_scale_bench(options: ScaleOptions) -> dict[str, Any]:
    results = {t: _run_topology(t, options) for t in options.topologies}
    out: dict[str, Any] = {"options": asdict(options), "results": results}
    if {"single", "cluster"} <= set(results):
        single, cluster = results["single"], results["cluster"]
        out["cluster_vs_single"] = {
            "ticks_per_s": round(cluster["ticks_per_s"] / single["ticks_per_s"], 3),
            "p99_tick": round(cluster["tick"]["p99_ms"] / single["tick"]["p99_ms"], 3),
        }
    return out


def _run_topology(topology: str, options: ScaleOptions) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"nb-scale-{topology}-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        side = RedisProcess(root / "side").start()  # the venues and the rq jobs
        stack.callback(side.stop)
        url, ports = stack.enter_context(_state_redis(topology, root, options.masters))
        strategies = root / "strategies"
        strategies.mkdir()
        (strategies / "always.py").write_text(ALWAYS_BUY)
        venue_client = redis.Redis(port=side.port, decode_responses=True)
        stack.callback(venue_client.close)
        runtimes = [
            _bot(stack, root, i, url, side.url, strategies, venue_client, options.assets)
            for i in range(options.bots)
        ]
        for rt in runtimes:  # the first tick records windows and takes leases: not measured
            run_tick(rt)
        before, process_before = _redis_cpu(ports), time.process_time()
        durations = _tick_for(runtimes, options.seconds)
        cpu, process_cpu = _redis_cpu(ports) - before, time.process_time() - process_before
        elapsed = sum(durations)
        return {
            "state_redis": f"{topology} ({len(ports)} node{'s' if len(ports) > 1 else ''})",
            "bots": options.bots,
            "markets_per_bot": 2 * options.assets,
            "ticks": len(durations),
            "ticks_per_s": round(len(durations) / elapsed, 1),
            "tick": summary_ms(durations),
            "redis_cpu_s_per_1000_ticks": round(cpu / len(durations) * 1000, 3),
            # this process: the runners and the in-process paper venues (not strategy hosts)
            "process_cpu_s_per_1000_ticks": round(process_cpu / len(durations) * 1000, 3),
        }


@contextmanager
def _state_redis(topology: str, root: Path, masters: int) -> Iterator[tuple[str, list[int]]]:
    if topology == "single":
        server = RedisProcess(root / "state").start()
        try:
            yield server.url, [server.port]
        finally:
            server.stop()
        return
    if topology != "cluster":
        raise ValueError(f"unknown topology {topology!r}: choose from {TOPOLOGIES}")
    group = ClusterGroup(root / "cluster", masters=masters)
    try:
        group.start()
        yield group.url, [s.port for s in group.servers]
    finally:
        group.stop()


def _bot(
    stack: ExitStack, root: Path, i: int, url: str, jobs_url: str, strategies: Path,
    venue_client: redis.Redis, assets: int,
) -> Runtime:  # fmt: skip
    config = PaperConfig(
        redis=venue_client, name=f"pv-{i}", seed=i, window_seconds=WINDOW_S,
        assets=ASSETS[: max(1, min(assets, len(ASSETS)))],
    )  # fmt: skip
    server = BackgroundServer(create_app(config), port=free_port()).start()
    stack.callback(server.stop)
    settings = Settings(root / f"bot{i}", url, f"bot{i:02d}", strategies, jobs_redis_url=jobs_url)
    rt = build_runtime(
        settings, RunnerConfig(replica="r1", tick_s=0.1, decide_budget_s=1.0),
        venue_spec=VenueSpec("paper", server.url),
    )  # fmt: skip
    stack.callback(close_runtime, rt)
    return rt


def _tick_for(runtimes: list[Runtime], seconds: float) -> list[float]:
    durations: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for rt in runtimes:
            started = time.perf_counter()
            run_tick(rt)
            durations.append(time.perf_counter() - started)
    return durations


def _redis_cpu(ports: list[int]) -> float:
    total = 0.0
    for port in ports:
        client = redis.Redis(port=port)
        try:
            info = client.info("cpu")
            total += float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
        finally:
            client.close()
    return total
