"""`neverblink bench store`: one tick's worth of store work vs a bare redis-py pipeline.

Each iteration of the store side reads a snapshot of N markets (one Lua round
trip) and commits three intents (create, acknowledge and fill each: one
pipelined round trip). The floor does the same reads and writes as plain HGETALL/SMEMBERS and
HSET/SADD/SREM in pipelines, with none of the checks. The two sides alternate,
iteration by iteration, in one run, so machine noise hits both alike.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, cast

import redis

from control.bench.stats import summary_ms
from state_store import transitions as t
from state_store.codec import plain
from state_store.keys import Keys
from state_store.models import Fill, Intent, Window
from state_store.store import Lease, Store

BOT = "bench"
REPLICA = "bench-r1"


def clear_bot(client: redis.Redis, bot: str) -> None:
    """Delete the bench bot's keys only: the bench may run on a shared Redis."""
    pattern = Keys(bot).prefix.replace("{", "\\{").replace("}", "\\}") + "*"
    for batch in _chunks(list(client.scan_iter(match=pattern, count=1000)), 500):
        client.delete(*batch)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _window(i: int) -> Window:
    start = 1_764_000_000 + 300 * i
    market = f"btc-updown-5m-{start}"
    return Window(
        market, "btc", "5m", start, start + 300, f"0xc{i}", f"u{i}", f"d{i}", start_price="97000"
    )


def seed_markets(store: Store, count: int) -> tuple[list[Window], dict[str, Lease]]:
    """Open `count` windows with a lease each, a fill on every market, a resting order on 1 in 5."""
    windows = [_window(i) for i in range(count)]
    leases: dict[str, Lease] = {}
    for i, window in enumerate(windows):
        store.open_window(window)
        lease = store.claim_lease(window.market, REPLICA, 3_600_000)
        assert lease is not None
        leases[window.market] = lease
        intent = Intent("seed", window.market, "Up", "BUY", Decimal("0.5"), Decimal("10"))
        coid, _ = store.create_order("bench", intent, window, lease)
        if i % 5:
            store.apply_fill(Fill(f"seed-{i}", coid, window.market, "Up", "BUY", Decimal("0.5"),
                                  Decimal("10")))  # fmt: skip
    return windows, leases


def store_tick(store: Store, windows: list[Window], leases: dict[str, Lease], n: int) -> None:
    store.snapshot([w.market for w in windows])
    calls = []
    for j in range(3):
        window = windows[(n * 3 + j) % len(windows)]
        intent = Intent(f"i{n}-{j}", window.market, "Down", "BUY", Decimal("0.41"), Decimal("5"))
        coid = store.client_order_id("bench", intent, window)
        lease = leases[window.market]
        calls.append(t.create_order(store.keys, coid, "bench", intent, window, lease, f"0x{coid}"))
        calls.append(t.ack_order(store.keys, coid, window.market, "live", f"0x{coid}"))
        fill = Fill(f"f-{coid}", coid, window.market, "Down", "BUY", intent.price, intent.size)
        calls.append(t.apply_fill(store.keys, fill))
    store.execute(calls)


def floor_tick(client: redis.Redis, store: Store, windows: list[Window], n: int) -> None:
    k = store.keys
    pipe = client.pipeline(transaction=False)
    for w in windows:
        pipe.hgetall(k.window(w.market))
        pipe.hgetall(k.position(w.market))
        pipe.smembers(k.pending_market(w.market))
    results = pipe.execute()
    pending = [c for i in range(2, len(results), 3) for c in results[i]]
    if pending:
        pipe = client.pipeline(transaction=False)
        for coid in pending:
            pipe.hgetall(k.order(coid))
        pipe.execute()
    pipe = client.pipeline(transaction=False)
    for j in range(3):
        window = windows[(n * 3 + j) % len(windows)]
        coid = f"floor-{n}-{j}"
        fields = {"client_order_id": coid, "market": window.market, "strategy": "bench",
                  "intent_key": f"i{n}-{j}", "outcome": "Down", "token_id": window.down_token,
                  "side": "BUY", "price": plain(Decimal("0.41")), "size": "5",
                  "order_type": "GTC", "venue_order_id": f"0x{coid}", "replica": REPLICA,
                  "fence": "1", "status": "new", "filled": "0", "error": "",
                  "created_at": "0", "updated_at": "0"}  # fmt: skip
        pipe.hset(k.order(coid), mapping=cast(Any, fields))
        pipe.sadd(k.pending, coid)
        pipe.sadd(k.pending_market(window.market), coid)
        pipe.sadd(k.market_orders(window.market), coid)
        pipe.hset(k.venue_orders, f"0x{coid}", coid)
        pipe.hset(k.order(coid), mapping={"status": "live", "updated_at": "1"})
        fill = {"fill_id": f"f-{coid}", "client_order_id": coid, "market": window.market,
                "outcome": "Down", "side": "BUY", "price": "0.41", "size": "5", "ts": "1",
                "venue_order_id": f"0x{coid}"}  # fmt: skip
        pipe.hset(k.fill(f"f-{coid}"), mapping=cast(Any, fill))
        pipe.hset(k.order(coid), mapping={"status": "filled", "filled": "5", "updated_at": "2"})
        position = {"down_shares": "5", "cash": "-2.05", "buy_notional": "2.05",
                    "fill_count": "2", "updated_at": "2"}  # fmt: skip
        pipe.hset(k.position(window.market), mapping=cast(Any, position))
        pipe.srem(k.pending, coid)
        pipe.srem(k.pending_market(window.market), coid)
    pipe.execute()


def run_store_bench(
    client: redis.Redis, markets: int = 100, iterations: int = 1000
) -> dict[str, Any]:
    """Alternate store and floor ticks; report p50/p99 of each and their ratios."""
    clear_bot(client, BOT)
    store = Store(client, BOT)
    windows, leases = seed_markets(store, markets)
    store_samples: list[float] = []
    floor_samples: list[float] = []
    for n in range(iterations + 50):
        began = time.perf_counter()
        store_tick(store, windows, leases, n)
        mid = time.perf_counter()
        floor_tick(client, store, windows, n)
        end = time.perf_counter()
        if n >= 50:  # warm-up: script cache, connection, allocator
            store_samples.append(mid - began)
            floor_samples.append(end - mid)
    store_stats, floor_stats = summary_ms(store_samples), summary_ms(floor_samples)
    return {
        "benchmark": "store",
        "markets": markets,
        "iterations": iterations,
        "store": store_stats,
        "floor": floor_stats,
        "ratio_p50": round(store_stats["p50_ms"] / floor_stats["p50_ms"], 3),
        "ratio_p99": round(store_stats["p99_ms"] / floor_stats["p99_ms"], 3),
        "targets": {"ratio_p50_max": 1.5, "store_p99_ms_max": 5.0},
    }
