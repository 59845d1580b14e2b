"""Sentinel failover under trading: a master, two replicas and three sentinels on loopback;
three runner replicas and an rq worker on the redis+sentinel:// URL; the master SIGKILLed
again and again (each time the sentinels promote a replica and the old master comes back as
a replica). No client order id reaches the venue twice, orders are fenced, positions equal
the venue ledger after reconciliation, every adoption is audited, and the worker's
reconciliation runs again after the last failover. (Windows settled exactly once through
kills: test_replicas_chaos.)

The recovery figure (kill -> every runner ticked on the new master) is printed and goes to
BENCHMARKS.md ("Sentinel failover"): run with -s to see it.
"""

from __future__ import annotations

import json
import random
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import pytest
import redis

from control.bench.replicas import Cluster, ClusterConfig, lease_grants
from control.bench.stats import summary_ms
from exchange.client import ClobClient
from exchange.factory import VenueSpec
from runner import jobs
from runner.reconcile import Reconciler
from state_store.connection import connect
from state_store.models import adopted_client_order_id
from state_store.private_topology import SentinelGroup
from state_store.settings import Settings
from state_store.store import Store
from tests.conftest import SENTINEL_DOWN_AFTER_MS
from tests.runner.replica_checks import check_fencing, check_venue_ledger
from tests.runner.sentinel_checks import (
    Failover,
    check_client_order_ids_unique,
    check_repairs_audited,
    force_failover,
    reconciled_since,
)
from tests.runner.test_replicas_chaos import BUSY

FAILOVERS = 10
TICK_S = 0.2
RECONCILE_EVERY_S = 3


@pytest.mark.chaos
@pytest.mark.timeout(300)
@pytest.mark.parametrize("sentinel_group", [2], indirect=True)  # one is left after a kill
def test_replicas_trade_through_ten_sentinel_failovers(
    tmp_path: Path, sentinel_group: SentinelGroup, redis_url: str, real_redis: redis.Redis
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "busy.py").write_text(BUSY)
    config = ClusterConfig(
        tmp_path, sentinel_group.url, strategies, tick_s=TICK_S, lease_ttl_ms=1000,
        window_seconds=30, reconcile_every=RECONCILE_EVERY_S, venue_redis_url=redis_url,
    )  # fmt: skip
    rng = random.Random(11)
    with ExitStack() as stack:
        cluster = stack.enter_context(Cluster(config))
        store = Store(cluster.redis, "default")
        assert cluster.wait_until(cluster.balanced, 60), "replicas never split the markets"
        for replica in cluster.runners:  # past their start-up (a loaded machine starts slowly)
            assert cluster.wait_until(partial(cluster.ticking, replica, 20), 60), replica
        failovers: list[Failover] = []
        for _ in range(FAILOVERS):
            time.sleep(rng.uniform(0.2, 1.0))  # trading between failovers
            failovers.append(force_failover(sentinel_group, cluster))
            sentinel_group.wait_replicas_in_sync()
        mapped = int(cluster.redis.hlen(store.keys.venue_orders))
        assert cluster.wait_until(
            lambda: int(cluster.redis.hlen(store.keys.venue_orders)) > mapped, 60
        ), "no order created after the last failover"
        report(failovers, store)
        rq_conn = jobs.rq_connection(cluster.settings())
        stack.callback(rq_conn.close)
        last = failovers[-1].killed_at + failovers[-1].promoted_s
        assert cluster.wait_until(
            lambda: reconciled_since(rq_conn, "default", RECONCILE_EVERY_S, last), 60, poll=0.2
        ), "no reconciliation ran after the last failover"
        print(f"a reconciliation finished {time.time() - last:.1f} s after the last promotion")

        assert cluster.stop_runners() == {"r1": 0, "r2": 0, "r3": 0}
        assert cluster.worker is not None and cluster.worker.terminate() == 0
        venue = stack.enter_context(ClobClient(cluster.venue_url))
        orders = [o for m in store.markets() for o in store.market_orders(m)]
        created_after = [o for o in orders if o.created_at > failovers[0].killed_at]
        assert len(created_after) > 50, "too few orders during the failovers"
        check_client_order_ids_unique(real_redis)
        # adopted orders (Redis lost their creation) carry no token; the others are fenced
        fenced = [o for o in orders if o.client_order_id != adopted_id(o.venue_order_id)]
        check_fencing(fenced, lease_grants(cluster.redis, store.keys))
        venue.cancel_all()  # resting orders would go on filling: end them, reconcile once more
        target = jobs.JobTarget.of(cluster.settings(), VenueSpec("paper", cluster.venue_url))
        Reconciler(store, venue, target, rq_conn, recheck_s=0, stuck_after_s=0).run()
        orders = [o for m in store.markets() for o in store.market_orders(m)]
        check_venue_ledger(store, venue, orders)
        check_client_order_ids_unique(real_redis)
        check_repairs_audited(store, cluster.settings(), orders)


def adopted_id(venue_order_id: str) -> str:
    return adopted_client_order_id("default", venue_order_id)


def report(failovers: list[Failover], store: Store) -> None:
    """The figure of BENCHMARKS.md, printed (pytest -s shows it). `placing`: from the kill
    to the first order created after it that was posted (a replica acknowledged it)."""
    orders = [o for m in store.markets() for o in store.market_orders(m)]
    posted = sorted(o.created_at for o in orders if "(WAIT)" not in o.error)
    placing = [
        min((t for t in posted if t > f.killed_at), default=float("nan")) - f.killed_at
        for f in failovers
    ]
    figure = {
        "orders": len(orders),
        "adopted": sum(o.client_order_id == adopted_id(o.venue_order_id) for o in orders),
        "unreplicated": sum("(WAIT)" in o.error for o in orders),
        "failovers": len(failovers),
        "down_after_ms": SENTINEL_DOWN_AFTER_MS,
        "tick_ms": TICK_S * 1000,
        "promoted": summary_ms([f.promoted_s for f in failovers]),
        "back": summary_ms([f.back_s for f in failovers]),
        "back_after_promotion": summary_ms([f.after_promotion_s for f in failovers]),
        "placing": summary_ms(placing),
    }
    print("sentinel failover:", json.dumps(figure))


def test_connect_follows_the_promoted_replica(sentinel_group: SentinelGroup) -> None:
    """The client connect() builds for a redis+sentinel:// URL writes to the new master after
    a failover, and no acknowledged write of an in-sync replica is lost."""
    client = connect(Settings.resolve(home="/nonexistent", redis_url=sentinel_group.url))
    try:
        client.set("k", "1")
        sentinel_group.wait_replicas_in_sync()
        old = sentinel_group.kill_master()
        new = sentinel_group.wait_failover(old)
        assert new != old
        deadline = time.monotonic() + 30
        while True:
            try:
                counted = client.incr("k")
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "the client never reached the new master"
        # the master that took the write held the in-sync "1": nothing acknowledged was lost,
        # and the write was applied once (a loaded machine may fail over a second time, so
        # a later read may find an older replica: the write's own answer is what counts)
        assert counted == 2
        assert sentinel_group.master_port() != old
    finally:
        client.close()
