"""Writes lost to asynchronous replication, forced at the worst moment: two runners trade on
a Sentinel URL; the replica's link is cut (it lags, the master goes on acknowledging), and
the master is SIGKILLed right after it acknowledged the creation of an order; the sentinels
promote the lagging replica. What protects each kind of record:

- an order's creation: WAIT before posting (--wait-replicas auto = 1 on a Sentinel URL), so
  an order the venue has is never one Redis forgets: no client order id reaches the venue
  twice, though the strategy asks for the same intent again at another price;
- fills, acks, positions written during the lag: the data guard sees the sequence went back
  and rebuilds them from the venue (adopting what Redis lost, audited);
- fencing tokens: the rebuild moves the counter past every token granted before the loss.

Afterwards Redis equals the venue's ledger.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from exchange.client import ClobClient
from exchange.factory import VenueSpec
from runner import jobs
from runner.guard import FENCE_JUMP
from runner.reconcile import Reconciler
from state_store.connection import connect
from state_store.keys import Keys
from state_store.private_topology import SentinelGroup
from state_store.settings import Settings
from state_store.store import Store
from tests.runner.processes import Proc, runner_args, start_venue, wait_for, wait_ticking
from tests.runner.sentinel_checks import check_client_order_ids_unique, check_repairs_audited
from tests.runner.test_data_guard_processes import check_redis_equals_venue

# One intent key per market per BUCKET_S venue seconds, priced at the current ask: when Redis
# forgets the order, the same key comes back at another price (another venue order id).
STEADY = """
from decimal import Decimal

from state_store.models import Intent


def decide(view):
    out = []
    bucket = int(view.now) // 10
    for m in view.markets:
        ask = m.up.best_ask
        if ask is not None and ask < Decimal("0.95") and m.time_left > 2:
            out.append(Intent(f"take-{bucket}", m.market, "Up", "BUY", ask, Decimal(5), "GTC"))
        bid = m.down.best_bid
        if bid is not None and bid > Decimal("0.06"):
            rest = bid - Decimal("0.05")
            out.append(Intent(f"rest-{bucket}", m.market, "Down", "BUY", rest, Decimal(5), "GTC"))
    return out
"""

REPLICAS = ("r1", "r2")
# the replica's link is cut this long before the kill (the 2.5 s): a replica whose
# link was down 10 x down-after (5 s here) before the kill is too stale for Sentinel to promote
LAG_S = 2.0
BUCKET_S = 10  # the strategy's intent keys change at multiples of this (venue seconds)
# --wait-replicas auto (1 on a Sentinel URL); leases short enough to be granted again
EXTRA_ARGS: tuple[str, ...] = ("--lease-ttl-ms", "1000")


@pytest.fixture
def bot(tmp_path: Path, sentinel_group: SentinelGroup) -> Iterator[redis.Redis]:
    client = connect(Settings.resolve(home=str(tmp_path / "home"), redis_url=sentinel_group.url))
    yield client
    client.close()


@pytest.mark.chaos
@pytest.mark.timeout(240)
def test_a_lagging_replica_promoted_right_after_an_order_forgets_nothing_twice(
    tmp_path: Path, sentinel_group: SentinelGroup, redis_url: str, real_redis: redis.Redis,
    bot: redis.Redis,
) -> None:  # fmt: skip
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "steady.py").write_text(STEADY)
    venue_proc, venue_url = start_venue(tmp_path, redis_url, window_seconds=60)
    home = tmp_path / "home"
    url = sentinel_group.url
    procs = {
        r: Proc([*runner_args(r, home, url, venue_url, strategies, 0.2), *EXTRA_ARGS],
                tmp_path / f"{r}.log")
        for r in REPLICAS
    }  # fmt: skip
    venue = ClobClient(venue_url)
    keys = Keys("default")
    try:
        for proc in procs.values():
            proc.start()
        for replica, proc in procs.items():
            wait_ticking(bot, replica, proc, ticks=10, timeout=120)
        wait_for("fills and resting orders", lambda: bool(venue.open_orders()) and bool(
            venue.fills_since(None)[0]))  # fmt: skip

        master = redis.Redis(port=sentinel_group.master_port(), decode_responses=True)
        sleep_until_lag_before_new_keys(venue)
        created = int(master.hlen(keys.venue_orders))
        cut = sentinel_group.cut_replica_links()  # fills, acks, leases, bumps: master only
        wait_for("an order created during the lag", lambda: int(
            master.hlen(keys.venue_orders)) > created, 20)  # the new keys' orders  # fmt: skip
        fence_before = int(master.get(keys.fence) or 0)
        old = sentinel_group.kill_master()  # right after the master acknowledged it
        killed_at = time.time()
        master.close()
        sentinel_group.restore_replica_links(cut)
        sentinel_group.wait_failover(old)
        sentinel_group.restart_as_replica(old)

        for replica in REPLICAS:
            wait_for(f"{replica} rebuilt from the venue", partial(repaired, bot, replica), 60)
        wait_for("leases granted again", lambda: bool(tokens_granted_after(bot, keys, killed_at)))
        start = {r: tick(bot, r) for r in REPLICAS}
        wait_for("trading again", lambda: all(tick(bot, r) > start[r] + 15 for r in REPLICAS))
        for proc in procs.values():
            assert proc.terminate() == 0

        assert int(bot.get(keys.fence) or 0) >= fence_before + FENCE_JUMP
        stale = [t for t in tokens_granted_after(bot, keys, killed_at) if t <= fence_before]
        assert not stale, f"tokens granted again after the failover: {stale}"
        store = Store(bot, "default")
        venue.cancel_all()  # nothing rests now: the venue's ledger is final
        settings = Settings.resolve(home=str(home), redis_url=url, strategies=str(strategies))
        target = jobs.JobTarget.of(settings, VenueSpec("paper", venue_url))
        rq_conn = jobs.rq_connection(settings)
        try:
            Reconciler(store, venue, target, rq_conn, recheck_s=0, stuck_after_s=0).run()
        finally:
            rq_conn.close()
        check_client_order_ids_unique(real_redis)
        check_redis_equals_venue(store, venue)
        orders = [o for m in store.markets() for o in store.market_orders(m)]
        check_repairs_audited(store, settings, orders)
        audit = [e["command"] for _, e in cast(Any, bot.xrange(keys.audit))]
        assert "redis_went_back" in audit and "redis_rebuilt" in audit
    finally:
        for proc in procs.values():
            proc.kill()
        venue.close()
        venue_proc.kill()


def sleep_until_lag_before_new_keys(venue: ClobClient) -> None:
    """Until LAG_S before the strategy's next intent keys (new orders in every market)."""
    now = venue.server_time()
    boundary = (int(now) // BUCKET_S + 1) * BUCKET_S
    if boundary - now < LAG_S + 0.5:
        boundary += BUCKET_S
    time.sleep(boundary - LAG_S - now)


def field(client: redis.Redis, replica: str, name: str) -> str:
    return str(client.hget(Keys("default").runner(replica), name) or "")


def tick(client: redis.Redis, replica: str) -> int:
    return int(field(client, replica, "tick") or 0)


def repaired(client: redis.Redis, replica: str) -> bool:
    guard = json.loads(field(client, replica, "data_guard") or "{}")
    return int(guard.get("repairs", 0)) >= 1


def tokens_granted_after(client: redis.Redis, keys: Keys, since: float) -> list[int]:
    """Fencing tokens of the lease log's grants after `since` (server time)."""
    rows: Any = client.xrange(keys.lease_log)
    return [int(f["token"]) for _, f in rows if float(f["ts"]) > since]
