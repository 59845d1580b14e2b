"""SIGKILL a real runner at random points, 50 times: nothing duplicated, nothing lost."""

from __future__ import annotations

import random
import time
from decimal import Decimal
from pathlib import Path

import pytest
import redis

from control.bench.roomy_risk import ROOMY_RISK, set_risk_limits
from exchange.client import ClobClient
from state_store.settings import Settings
from state_store.store import Store
from tests.runner.processes import Proc, runner_args, start_venue, wait_ticking

# One new order per market per venue second, so a kill often lands mid-order.
EVERY_SECOND = """
from decimal import Decimal

from state_store.models import Intent


def decide(view):
    out = []
    for m in view.markets:
        ask = m.up.best_ask
        if ask is None or ask >= Decimal("0.99") or m.time_left < 2:
            continue
        out.append(Intent("s" + str(int(view.now)), m.market, "Up", "BUY", ask, Decimal(5), "GTC"))
    return out
"""

KILLS = 50


@pytest.mark.chaos
@pytest.mark.timeout(400)
def test_sigkill_50_times_loses_and_duplicates_nothing(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "every_second.py").write_text(EVERY_SECOND)
    venue_proc, venue_url = start_venue(tmp_path, redis_url)
    home = tmp_path / "home"
    args = runner_args("r1", home, redis_url, venue_url, strategies, tick=0.05)
    # it trades all through: past the default daily loss limit, which would pause it
    set_risk_limits(Settings(home, redis_url, "default", strategies), ROOMY_RISK)
    rng = random.Random(11)
    try:
        for _ in range(KILLS):
            runner = Proc(args, tmp_path / "runner.log").start()
            time.sleep(rng.uniform(0.8, 2.0))  # start-up takes ~0.6 s; kill at any later point
            runner.kill()
        final = Proc(args, tmp_path / "runner.log").start()
        wait_ticking(real_redis, "r1", final, ticks=40)  # it repairs what the last one left
        assert final.terminate() == 0
        with ClobClient(venue_url) as venue:
            check_against_venue(Store(real_redis, "default"), venue)
    finally:
        venue_proc.kill()


def check_against_venue(store: Store, venue: ClobClient) -> None:
    orders = [o for m in store.markets() for o in store.market_orders(m)]
    assert len(orders) > KILLS, "too few orders to have exercised the kills"
    by_venue_id = {o.venue_order_id: o for o in orders}
    assert len(by_venue_id) == len(orders), "two of our orders share a venue order id"
    venue_fills, _ = venue.fills_since(None)
    filled: dict[str, Decimal] = {}
    for fill in venue_fills:
        assert fill.order_id in by_venue_id, f"venue order {fill.order_id} is not ours: duplicate"
        filled[fill.order_id] = filled.get(fill.order_id, Decimal(0)) + fill.size
    for order in orders:
        assert order.filled == filled.get(order.venue_order_id, Decimal(0)), order
        assert order.status.value not in ("new", "submitted"), f"left half-done: {order}"
    for market in store.markets():
        pos = store.position(market)
        from_orders = sum((o.filled for o in store.market_orders(market)), Decimal(0))
        assert pos.up_shares == from_orders
    open_at_venue = {o.order_id for o in venue.open_orders()}
    assert open_at_venue <= set(by_venue_id)
