"""3 replicas, 8 markets, an rq worker: SIGKILL and SIGSTOP (past the lease) one replica, again
and again. No order is created under a stale lease, nothing reaches the venue twice,
positions match the venue's ledger and every closed window is settled exactly once."""

from __future__ import annotations

import random
import signal
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis

from control.bench.replicas import Cluster, ClusterConfig, lease_grants
from exchange.client import ClobClient
from exchange.factory import VenueSpec
from runner import jobs
from runner.reconcile import Reconciler
from state_store.models import OrderStatus
from state_store.store import Store
from tests.runner.replica_checks import check_fencing, check_settled_once, check_venue_ledger

# Every tick: take the ask on Up in each market (fills at once; a new intent key per tick, so
# a replica frozen before its commit wakes up with orders to create), and now and then rest a
# low bid that never fills (windows then end with open orders to expire).
BUSY = """
from decimal import Decimal

from state_store.models import Intent


def decide(view):
    out = []
    key = "t" + str(int(view.now)) + "-" + str(view.tick)  # venue time has 1 s steps
    for m in view.markets:
        ask = m.up.best_ask
        if ask is not None and ask < Decimal("0.99") and m.time_left > 1:
            out.append(Intent(key, m.market, "Up", "BUY", ask, Decimal(5), "GTC"))
        if int(view.now) % 7 == 0:
            rest = "r" + str(int(view.now))
            out.append(Intent(rest, m.market, "Down", "BUY", Decimal("0.01"), Decimal(5), "GTC"))
    return out
"""

ROUNDS = 12
TTL_MS = 1000


def chaos(cluster: Cluster, rng: random.Random) -> list[tuple[str, str, float, float]]:
    """Alternate SIGKILL (then restart) and SIGSTOP past the lease (then SIGCONT); half of the
    freezes land right after the replica renewed its leases, i.e. before it commits."""
    done = []
    for n in range(ROUNDS):
        victim = rng.choice(sorted(cluster.runners))
        child = cluster.runners[victim]
        t0 = time.time()
        if n % 2 == 0:
            child.kill()
            time.sleep(rng.uniform(0.2, 1.5))  # sometimes back before its leases expire
            cluster.start_runner(victim)
            done.append(("kill", victim, t0, time.time()))
        else:
            if n % 4 == 1:
                wait_for_renewal(cluster, victim)
            child.signal(signal.SIGSTOP)
            t0 = time.time()
            time.sleep(TTL_MS / 1000 * 1.5 + rng.uniform(0, 1.0))
            child.signal(signal.SIGCONT)
            done.append(("stop", victim, t0, time.time()))
        time.sleep(rng.uniform(1.0, 3.0))
    return done


def wait_for_renewal(cluster: Cluster, replica: str, timeout: float = 5.0) -> None:
    """Return just after `replica` renewed a lease (its remaining TTL jumped up)."""
    held = [m for m, h in cluster.holders(cluster.live_markets()).items() if h == replica]
    if not held:
        return
    key = cluster.keys.lease(held[0])
    last = cluster.redis.pttl(key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = cluster.redis.pttl(key)
        if now > last:
            return
        last = now
        time.sleep(0.001)


def taken_while_frozen(
    grants: list[dict[str, Any]], events: list[tuple[str, str, float, float]]
) -> int:
    """Lease grants to other replicas while one was frozen."""
    return sum(
        1
        for kind, victim, start, end in events
        if kind == "stop"
        for g in grants
        if g["replica"] != victim and start < g["ts"] < end
    )


def settled_and_quiet(store: Store, venue: ClobClient, quiet_s: float = 3.0) -> bool:
    """Every closed window settled, and no window recorded as open ends in the next few
    seconds (the worker's reconciliation closes ended windows once no runner is alive)."""
    if store.unsettled_markets():
        return False
    now = venue.server_time()
    windows = [store.window(m) for m in store.open_markets()]
    return all(w is None or w.end_ts > now + quiet_s for w in windows)


@pytest.mark.chaos
@pytest.mark.timeout(240)
def test_replicas_survive_kills_and_freezes(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "busy.py").write_text(BUSY)
    config = ClusterConfig(
        tmp_path, redis_url, strategies, tick_s=0.2, lease_ttl_ms=TTL_MS, venue_latency_ms=15
    )
    store = Store(real_redis, "default")
    with ExitStack() as stack:
        cluster = stack.enter_context(Cluster(config))
        assert cluster.wait_until(cluster.balanced, 60), "replicas never split the markets"
        assert len(cluster.live_markets()) == 8
        events = chaos(cluster, random.Random(5))
        for replica in cluster.runners:  # a restarted replica is past its start-up
            assert cluster.wait_until(partial(cluster.ticking, replica), 60), replica
        codes = cluster.stop_runners()
        assert codes == {"r1": 0, "r2": 0, "r3": 0}, codes
        venue = stack.enter_context(ClobClient(cluster.venue_url))
        settled = cluster.wait_until(lambda: settled_and_quiet(store, venue), 60, poll=0.2)
        assert settled, f"never settled: {store.unsettled_markets()}"
        cutoff = venue.server_time()  # windows ending later may close during the shutdown
        assert cluster.worker is not None and cluster.worker.terminate() == 0
        orders = [o for m in store.markets() for o in store.market_orders(m)]
        assert len(orders) > 100, "too few orders to have exercised the chaos"
        half_done = [o for o in orders if o.status in (OrderStatus.NEW, OrderStatus.SUBMITTED)]
        assert not half_done, half_done
        grants = lease_grants(real_redis, store.keys)
        assert len({g["replica"] for g in grants}) == 3
        assert taken_while_frozen(grants, events) > 0, "no freeze outlived its leases"
        check_fencing(orders, grants)
        # Resting orders still fill with every runner stopped: end them at the venue, and let
        # one last reconciliation bring their late fills and cancels into Redis.
        venue.cancel_all()
        final_reconciliation(cluster, store, venue)
        orders = [o for m in store.markets() for o in store.market_orders(m)]
        check_venue_ledger(store, venue, orders)
        # the final reconciliation closes windows that ended meanwhile, with no worker left to
        # settle them: those are the next run's work; every window over by the cutoff is checked
        over = [w for w in store.windows() if w.end_ts <= cutoff]
        assert check_settled_once(store, venue, over) >= 8


def final_reconciliation(cluster: Cluster, store: Store, venue: ClobClient) -> None:
    target = jobs.JobTarget.of(cluster.settings(), VenueSpec("paper", cluster.venue_url))
    conn = redis.Redis.from_url(cluster.config.redis_url)
    try:
        Reconciler(store, venue, target, conn, recheck_s=0, stuck_after_s=0).run()
    finally:
        conn.close()
