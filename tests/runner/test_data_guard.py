"""Lost Redis data is noticed and rebuilt from the venue (issue 13, cases 5 and 8).

A real redis-server for the bot (AOF on), restarted from an empty data directory
while two runner replicas trade against the paper venue; afterwards every venue
order and fill is in Redis and positions equal the venue's. And an order ended at
the venue is ended in Redis by the runners themselves, with no rq worker.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import cast

import pytest

from exchange.venue import Venue
from runner import guard
from runner.build import build_runtime, close_runtime
from runner.loop import Loop
from runner.runtime import RunnerConfig, Runtime
from state_store.audit import read_stream
from state_store.models import OrderStatus
from state_store.private_redis import RedisProcess
from state_store.settings import Settings
from state_store.store import Store
from tests.runner.conftest import BOTH_VENUES

LADDER = """
from decimal import Decimal

from state_store.models import Intent

PARAMS = {"size": 5}


def decide(view):
    out = []
    size = Decimal(view.params["size"])
    for m in view.markets:
        ask, bid = m.up.best_ask, m.up.best_bid
        if ask is not None and ask < Decimal("0.95"):
            out.append(Intent(f"take-{view.tick // 2}", m.market, "Up", "BUY", ask, size, "GTC"))
        if bid is not None and bid > Decimal("0.10"):
            rest = bid - Decimal("0.05")
            out.append(Intent(f"rest-{view.tick // 3}", m.market, "Up", "BUY", rest, size, "GTC"))
    return out
"""


@pytest.fixture
def bot_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "bot-redis", appendonly=True).start()
    yield server
    server.stop()


def ladder_only(strategies_dir: Path) -> None:
    for path in strategies_dir.glob("*.py"):
        path.unlink()
    (strategies_dir / "ladder.py").write_text(LADDER)


def make_runner(tmp_path: Path, url: str, strategies: Path, venue: Venue, replica: str) -> Runtime:
    home = str(tmp_path / "home")
    settings = Settings.resolve(home=home, redis_url=url, strategies=str(strategies))
    return build_runtime(settings, RunnerConfig(replica, tick_s=0.05), venue=venue)


def restart_empty(server: RedisProcess) -> None:
    """Stop Redis and start it again from an empty data directory (a lost AOF)."""
    server.kill()
    shutil.rmtree(server.directory)
    server.start()


def assert_redis_matches_venue(store: Store, venue: Venue, loops: list[Loop]) -> None:
    """Every venue fill and resting order of a moment is in Redis after the runners' next tick,
    and orders and positions add up the fills Redis has (the venue's, matched meanwhile or not).
    """
    before, _ = venue.fills_since(None)
    resting = {o.order_id for o in venue.open_orders()}
    assert before, "nothing traded: the test proves nothing"
    for loop in loops:
        loop.one_tick()
    after, _ = venue.fills_since(None)
    known = [f for f in after if store.fill(f.fill_id) is not None]
    missing = {f.fill_id for f in before} - {f.fill_id for f in known}
    assert not missing, f"{len(missing)} venue fills missing from Redis"
    mapped = cast(dict[str, str], store.client.hgetall(store.keys.venue_orders))
    lost = ({f.order_id for f in before} | resting) - set(mapped)
    assert not lost, f"{len(lost)} venue orders missing from Redis"
    by_order: dict[str, Decimal] = {}
    by_token: dict[str, Decimal] = {}
    for fill in known:
        by_order[fill.order_id] = by_order.get(fill.order_id, Decimal(0)) + fill.size
        by_token[fill.token_id] = by_token.get(fill.token_id, Decimal(0)) + fill.size
    for venue_id, coid in mapped.items():
        order = store.order(coid)
        assert order is not None and order.filled == by_order.get(venue_id, Decimal(0)), order
    for window in store.windows():
        pos = store.position(window.market)
        assert pos.up_shares == by_token.get(window.up_token, Decimal(0)), window.market
        assert pos.down_shares == by_token.get(window.down_token, Decimal(0)), window.market


@BOTH_VENUES
@pytest.mark.timeout(180)
def test_redis_restarted_empty_is_rebuilt_from_the_venue(
    tmp_path: Path, bot_redis: RedisProcess, venue: Venue, strategies_dir: Path
) -> None:
    ladder_only(strategies_dir)
    runners = [make_runner(tmp_path, bot_redis.url, strategies_dir, venue, r) for r in ("r1", "r2")]
    loops = [Loop(rt) for rt in runners]
    store = runners[0].store
    try:
        for _ in range(8):
            for loop in loops:
                loop.one_tick()
        before = len(store.client.hgetall(store.keys.venue_orders))
        assert before > 4 and venue.open_orders(), "the ladder should have traded and rested"

        restart_empty(bot_redis)  # case 5: the AOF is gone
        assert store.client.dbsize() == 0
        for _ in range(3):
            for loop in loops:
                loop.one_tick()
        assert all(not rt.degraded for rt in runners)
        assert any(rt.guard.repairs for rt in runners)
        assert_redis_matches_venue(store, venue, loops)

        entries = [e.command for e in read_stream(store.client, store.keys, 1000)]
        assert "redis_went_back" in entries and "redis_rebuilt" in entries
        assert "repair_order_adopted_from_venue" in entries and "repair_fill" in entries
        status = json.loads(runners[0].settings.status_file.read_text())["runners"]
        repaired = [s["data_guard"] for s in status.values() if s["data_guard"]["repairs"]]
        assert repaired and "fills_restored" in repaired[0]["last_repair"]
        assert all(s["data_guard"]["state"] == "ok" for s in status.values())

        for _ in range(6):  # trading resumes on the rebuilt state, and stays consistent
            for loop in loops:
                loop.one_tick()
        assert_redis_matches_venue(store, venue, loops)
        assert len(store.client.hgetall(store.keys.venue_orders)) > before
    finally:
        for loop in loops:
            loop.teardown()
            close_runtime(loop.rt)


@BOTH_VENUES
def test_sequence_that_went_back_is_noticed(
    tmp_path: Path, bot_redis: RedisProcess, venue: Venue, strategies_dir: Path
) -> None:
    ladder_only(strategies_dir)
    rt = make_runner(tmp_path, bot_redis.url, strategies_dir, venue, "r1")
    loop = Loop(rt)
    try:
        for _ in range(4):
            loop.one_tick()
        seq = rt.guard.seq
        # a truncated AOF's last second: creates of resting orders (no fills of them yet)
        lost = [o.client_order_id for o in rt.store.pending_orders() if o.filled == 0]
        assert lost
        rt.client.hset(rt.store.keys.seq, "r1", str(seq - 2))
        for coid in lost:
            order = rt.store.order(coid)
            assert order is not None
            rt.client.delete(rt.store.keys.order(coid))
            rt.client.hdel(rt.store.keys.venue_orders, order.venue_order_id)
            rt.client.srem(rt.store.keys.pending, coid)
            rt.client.srem(rt.store.keys.pending_market(order.market), coid)
        loop.one_tick()
        assert rt.guard.repairs == 1 and "went back" in rt.guard.last_repair["reason"]
        assert rt.guard.seq > seq
        assert_redis_matches_venue(rt.store, venue, [loop])
    finally:
        loop.teardown()
        close_runtime(loop.rt)


@BOTH_VENUES
def test_orders_cancelled_at_the_venue_end_in_redis_without_a_worker(
    tmp_path: Path, bot_redis: RedisProcess, venue: Venue, strategies_dir: Path
) -> None:
    """Case 8: cancel-all at the venue; no rq worker runs; the runner ends them itself."""
    ladder_only(strategies_dir)
    rt = make_runner(tmp_path, bot_redis.url, strategies_dir, venue, "r1")
    loop = Loop(rt)
    try:
        for _ in range(4):
            loop.one_tick()
        rt.client.hset(rt.store.keys.control, mapping={"version": "1", "paused": "1"})
        loop.one_tick()  # paused from here on: no new orders to confuse the picture
        canceled = set(venue.cancel_all())  # case 8: cancel-all at the venue
        by_venue_id = {o.venue_order_id: o for o in rt.store.pending_orders()}
        live = [by_venue_id[v] for v in canceled if v in by_venue_id]
        assert live and all(o.status == OrderStatus.LIVE for o in live)
        for order in live:  # acknowledged long enough ago to be in the venue's list
            rt.client.hset(rt.store.keys.order(order.client_order_id), "updated_at", "1")
        rt.guard.venue_synced_at = 0.0  # the next tick is the next sync
        loop.one_tick()
        for order in live:
            ended = rt.store.order(order.client_order_id)
            assert ended is not None and ended.status == OrderStatus.CANCELLED, ended
        assert rt.guard.orders_ended >= len(live)
        closed = [e for e in read_stream(rt.client, rt.store.keys, 1000)
                  if e.command == "repair_order_closed"]  # fmt: skip
        assert len(closed) == len(live)
    finally:
        loop.teardown()
        close_runtime(loop.rt)


@BOTH_VENUES
def test_redis_that_went_back_during_a_tick_is_noticed_at_the_next(
    tmp_path: Path, bot_redis: RedisProcess, venue: Venue, strategies_dir: Path
) -> None:
    """The check at the start of a tick passed; Redis lost writes before the tick's bump."""
    ladder_only(strategies_dir)
    rt = make_runner(tmp_path, bot_redis.url, strategies_dir, venue, "r1")
    loop = Loop(rt)
    try:
        for _ in range(3):
            loop.one_tick()
        seq = rt.guard.seq
        rt.client.hset(rt.store.keys.seq, "r1", str(seq - 1))  # the bump will give `seq` again
        guard.bump(rt)
        assert rt.guard.seq == seq and rt.guard.went_back
        loop.one_tick()
        assert rt.guard.repairs == 1 and "during a tick" in rt.guard.last_repair["reason"]
        assert rt.guard.seq > seq and not rt.guard.went_back
    finally:
        loop.teardown()
        close_runtime(loop.rt)
