"""Case 5 with real processes: two `neverblink run` replicas trade against the paper venue
while their Redis restarts from an empty data directory; they notice, rebuild from the
venue, resume; afterwards every venue order and fill is in Redis and positions equal the
venue's. Then a cancel-all at the venue is ended in Redis by the runners (case 8), with no
rq worker running."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from exchange.client import ClobClient
from state_store.keys import Keys
from state_store.private_redis import RedisProcess
from state_store.store import Store
from tests.runner.processes import Proc, neverblink, runner_args, start_venue, wait_ticking
from tests.runner.test_data_guard import LADDER

REPLICAS = ("r1", "r2")


def wait_for(what: str, done: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if done():
                return
        except redis.ConnectionError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def field(client: redis.Redis, replica: str, name: str) -> str:
    return str(client.hget(Keys("default").runner(replica), name) or "")


def rebuilt(client: redis.Redis, replica: str) -> bool:
    guard = json.loads(field(client, replica, "data_guard") or "{}")
    return int(guard.get("repairs", 0)) >= 1


def paused(client: redis.Redis, replica: str) -> bool:
    return field(client, replica, "paused") == "True"


@pytest.mark.chaos
@pytest.mark.timeout(400)
def test_runner_processes_rebuild_a_redis_restarted_empty(tmp_path: Path, redis_url: str) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "ladder.py").write_text(LADDER)
    bot = RedisProcess(tmp_path / "bot-redis", appendonly=True).start()
    venue_proc, venue_url = start_venue(tmp_path, redis_url, window_seconds=60)
    home = tmp_path / "home"
    procs = [
        Proc(runner_args(r, home, bot.url, venue_url, strategies, 0.1), tmp_path / f"{r}.log")
        for r in REPLICAS
    ]
    client = redis.Redis.from_url(bot.url, decode_responses=True)
    store = Store(client, "default")
    venue = ClobClient(venue_url)
    try:
        for proc in procs:
            proc.start()
        for replica, proc in zip(REPLICAS, procs, strict=True):
            wait_ticking(client, replica, proc, ticks=10, timeout=120)
        wait_for("fills and resting orders", lambda: bool(venue.open_orders()) and bool(
            venue.fills_since(None)[0]))  # fmt: skip

        bot.kill()  # case 5: Redis comes back from an empty data directory
        shutil.rmtree(bot.directory)
        bot.start()
        for replica in REPLICAS:
            wait_for(f"{replica} rebuilt", partial(rebuilt, client, replica))
        audit = [e["command"] for _, e in cast(Any, client.xrange(Keys("default").audit))]
        assert "redis_went_back" in audit and "redis_rebuilt" in audit
        start = int(field(client, "r1", "tick"))
        wait_for("trading again", lambda: int(field(client, "r1", "tick")) > start + 20)

        ctl = [*neverblink("ctl", "pause"), "--home", str(home), "--redis-url", bot.url]
        ctl += ["--strategies", str(strategies)]
        subprocess.run(ctl, check=True, capture_output=True, timeout=60)
        for replica in REPLICAS:
            wait_for(f"{replica} paused", partial(paused, client, replica))
        canceled = set(venue.cancel_all())  # case 8, no rq worker anywhere
        assert canceled
        wait_for("cancel-all ended in Redis", lambda: not (
            canceled & {o.venue_order_id for o in store.pending_orders()}))  # fmt: skip
        for proc in procs:
            assert proc.terminate() == 0
        check_redis_equals_venue(store, venue)
    finally:
        for proc in procs:
            proc.kill()
        venue.close()
        client.close()
        venue_proc.kill()
        bot.stop()


def check_redis_equals_venue(store: Store, venue: ClobClient) -> None:
    """Nothing rests at the venue now, so its ledger is final: Redis must hold all of it."""
    assert not venue.open_orders()
    fills, _ = venue.fills_since(None)
    mapped = cast(dict[str, str], store.client.hgetall(store.keys.venue_orders))
    by_order: dict[str, Decimal] = {}
    by_token: dict[str, Decimal] = {}
    for fill in fills:
        assert store.fill(fill.fill_id) is not None, f"fill {fill.fill_id} missing from Redis"
        assert fill.order_id in mapped, f"venue order {fill.order_id} missing from Redis"
        by_order[fill.order_id] = by_order.get(fill.order_id, Decimal(0)) + fill.size
        by_token[fill.token_id] = by_token.get(fill.token_id, Decimal(0)) + fill.size
    for venue_id, coid in mapped.items():
        order = store.order(coid)
        assert order is not None and order.filled == by_order.get(venue_id, Decimal(0)), order
        assert order.status.value not in ("new", "submitted", "live"), order
    for window in store.windows():
        position = store.position(window.market)
        assert position.up_shares == by_token.get(window.up_token, Decimal(0)), window.market
        assert position.down_shares == by_token.get(window.down_token, Decimal(0)), window.market
