"""Failover benchmark: SIGKILL a replica -> the last of its markets ticked by a survivor.

Method (BENCHMARKS.md): 3 runner processes (`neverblink run`, a strategy that
decides nothing) share 8 live markets of a paper venue (4 assets x 5m/15m,
long windows so a market rarely ends mid-measurement) and a private
redis-server. Before each kill the cluster is balanced (every market leased,
every replica at its floor share). A random replica holding markets is
SIGKILLed at t0; its markets (from the lease keys just before) are orphans.
A survivor has ticked an orphan when its heartbeat hash (written at the end
of every tick) lists the market with `last_tick_at` > t0; the sample is the
latest such `last_tick_at` - t0 over the orphans. The lease log gives the
grant time of each orphan too. The victim is restarted and the cluster
rebalanced before the next kill.
"""

from __future__ import annotations

import random
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control.bench.replicas import Cluster, ClusterConfig, lease_grants
from control.bench.stats import summary_ms
from state_store.private_redis import RedisProcess

NOOP_STRATEGY = "def decide(view):\n    return []\n"
POLL_S = 0.005
TAKEOVER_TIMEOUT_S = 20.0
BALANCE_TIMEOUT_S = 60.0
QUIET_S = 8.0  # no window ends this soon after a kill


@dataclass(frozen=True)
class FailoverOptions:
    kills: int = 20
    replicas: int = 3
    tick_s: float = 0.2
    lease_ttl_ms: int = 1000
    window_seconds: int = 120
    seed: int = 7


@dataclass
class Kill:
    victim: str
    orphans: list[str]
    takeover_s: float | None  # None: some orphan was not taken over in time
    grant_s: float | None


def run_failover_bench(options: FailoverOptions) -> dict[str, Any]:
    rng = random.Random(options.seed)
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nb-failover-")))
        server = RedisProcess(root / "redis").start()
        stack.callback(server.stop)
        strategies = root / "strategies"
        strategies.mkdir()
        (strategies / "noop.py").write_text(NOOP_STRATEGY)
        config = ClusterConfig(
            root, server.url, strategies, replicas=options.replicas, tick_s=options.tick_s,
            lease_ttl_ms=options.lease_ttl_ms, window_seconds=options.window_seconds,
            worker=False,
        )  # fmt: skip
        cluster = stack.enter_context(Cluster(config))
        kills = [one_kill(cluster, rng) for _ in range(options.kills)]
        return report(options, kills, len(cluster.live_markets()))


def quiet_and_balanced(cluster: Cluster) -> None:
    """Wait until no live window ends within QUIET_S and every market is leased evenly."""
    for _ in range(10):
        if not cluster.wait_until(cluster.balanced, BALANCE_TIMEOUT_S):
            raise RuntimeError("the replicas did not balance the markets in time")
        now, ends = cluster.live_windows()
        soonest = min(ends.values()) - now
        if soonest >= QUIET_S:
            return
        time.sleep(soonest + 0.5)  # the venue runs at wall speed here
    raise RuntimeError("no quiet moment between window ends")


def one_kill(cluster: Cluster, rng: random.Random) -> Kill:
    quiet_and_balanced(cluster)
    time.sleep(rng.uniform(0, cluster.config.tick_s))  # kill at any point of a tick
    markets = cluster.live_markets()
    held = cluster.holders(markets)
    victim = rng.choice(sorted({h for h in held.values() if h}))
    orphans = [m for m, h in held.items() if h == victim]
    t0 = time.time()
    cluster.runners[victim].kill()
    seen = watch_takeover(cluster, victim, orphans, t0)
    grants = [
        g["ts"] for g in lease_grants(cluster.redis, cluster.keys)
        if g["market"] in orphans and g["ts"] > t0
    ]  # fmt: skip
    cluster.start_runner(victim)
    done = len(seen) == len(orphans)
    return Kill(
        victim, orphans, max(seen.values()) - t0 if done else None,
        max(grants) - t0 if done and len(grants) >= len(orphans) else None,
    )  # fmt: skip


def watch_takeover(
    cluster: Cluster, victim: str, orphans: list[str], t0: float
) -> dict[str, float]:
    """Orphan -> `last_tick_at` of the first survivor tick that had it."""
    seen: dict[str, float] = {}
    survivors = [r for r in cluster.runners if r != victim]
    deadline = time.monotonic() + TAKEOVER_TIMEOUT_S
    while len(seen) < len(orphans) and time.monotonic() < deadline:
        for replica in survivors:
            beat = cluster.heartbeat(replica)
            if beat is None or beat[0] <= t0:
                continue
            for market in beat[1]:
                if market in orphans and market not in seen:
                    seen[market] = beat[0]
        time.sleep(POLL_S)
    return seen


def report(options: FailoverOptions, kills: list[Kill], markets: int) -> dict[str, Any]:
    takeovers = [k.takeover_s for k in kills if k.takeover_s is not None]
    grants = [k.grant_s for k in kills if k.grant_s is not None]
    target_ms = options.lease_ttl_ms + options.tick_s * 1000
    takeover = summary_ms(takeovers)
    return {
        "method": "SIGKILL one of N replicas -> last orphaned market ticked by a survivor",
        "replicas": options.replicas,
        "markets": markets,
        "tick_ms": options.tick_s * 1000,
        "lease_ttl_ms": options.lease_ttl_ms,
        "kills": len(kills),
        "timeouts": len(kills) - len(takeovers),
        "orphans_per_kill": round(sum(len(k.orphans) for k in kills) / max(len(kills), 1), 2),
        "takeover": takeover,
        "lease_grant": summary_ms(grants),
        "target_ms": target_ms,
        "met": bool(takeovers) and len(takeovers) == len(kills) and takeover["p99_ms"] <= target_ms,
    }
