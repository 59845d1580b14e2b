"""`neverblink bench risk`: what the risk check adds to creating orders.

create_order.lua checks a BUY against the bot's and the strategy's limits by reading
every order of its market window and every pending order of the bot. Each iteration
creates four BUYs in one pipelined round trip twice, in two windows seeded alike
(`orders` orders each, as a quoter leaves them: four still resting, the others ended,
half of those filled): without limits in one, with (roomy) limits in the other,
alternating which goes first; the new orders are removed afterwards (untimed), so
every iteration sees the same state.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import redis

from control.bench.stats import summary_ms
from control.bench.store_bench import REPLICA, _window, clear_bot
from state_store import transitions as t
from state_store.models import Fill, Intent, Window
from state_store.risk import Limits
from state_store.store import Lease, Store

BOT = "bench-risk"
ROOMY = Limits(Decimal(10**6), Decimal(10**6), 10**4, Decimal(10**6))
LIMITS = t.EntryLimits(ROOMY, ROOMY)
RESTING = 4  # orders still open in each seeded window


def seed(store: Store, window: Window, orders: int) -> Lease:
    store.open_window(window)
    lease = store.claim_lease(window.market, REPLICA, 3_600_000)
    assert lease is not None
    for i in range(orders):
        intent = Intent(f"seed-{i}", window.market, "Up", "BUY", Decimal("0.5"), Decimal(5))
        coid, _ = store.create_order("bench", intent, window, lease)
        if i < RESTING:
            continue
        if i % 2:
            fill = Fill(f"{window.market}-{i}", coid, window.market, "Up", "BUY",
                        Decimal("0.5"), Decimal(5))  # fmt: skip
            store.apply_fill(fill)
        else:
            store.cancel_order(coid, window.market)
    return lease


def create_four(
    store: Store, window: Window, lease: Lease, n: int, limits: t.EntryLimits | None
) -> tuple[float, list[str]]:
    calls, coids = [], []
    for j in range(4):
        intent = Intent(f"n{n}-{j}", window.market, "Up", "BUY", Decimal("0.4"), Decimal(5))
        coid = store.client_order_id("bench", intent, window)
        coids.append(coid)
        calls.append(t.create_order(store.keys, coid, "bench", intent, window, lease, "", limits))
    began = time.perf_counter()
    results = store.execute(calls)
    elapsed = time.perf_counter() - began
    assert all(r.outcome == "created" for r in results), results
    return elapsed, coids


def forget(client: redis.Redis, store: Store, market: str, coids: list[str]) -> None:
    k = store.keys
    pipe = client.pipeline(transaction=False)
    for coid in coids:
        pipe.delete(k.order(coid))
        pipe.srem(k.pending, coid)
        pipe.srem(k.pending_market(market), coid)
        pipe.srem(k.market_orders(market), coid)
    pipe.execute()


def run_risk_bench(
    client: redis.Redis, orders: tuple[int, ...] = (10, 100, 400), iterations: int = 1000
) -> dict[str, Any]:
    out: dict[str, Any] = {"benchmark": "risk", "iterations": iterations, "rows": []}
    for count in orders:
        clear_bot(client, BOT)
        store = Store(client, BOT)
        plain_w, checked_w = _window(0), _window(1)
        plain_lease, checked_lease = seed(store, plain_w, count), seed(store, checked_w, count)
        samples: dict[str, list[float]] = {"plain": [], "checked": []}
        for n in range(iterations + 50):
            sides = [("plain", plain_w, plain_lease, None),
                     ("checked", checked_w, checked_lease, LIMITS)]  # fmt: skip
            for name, window, lease, limits in sides if n % 2 else reversed(sides):
                elapsed, coids = create_four(store, window, lease, n, limits)
                forget(client, store, window.market, coids)
                if n >= 50:  # warm-up
                    samples[name].append(elapsed)
        plain, checked = summary_ms(samples["plain"]), summary_ms(samples["checked"])
        out["rows"].append({
            "orders_in_window": count, "resting_per_window": RESTING,
            "plain": plain, "checked": checked,
            "added_p50_ms": round(checked["p50_ms"] - plain["p50_ms"], 3),
            "ratio_p50": round(checked["p50_ms"] / plain["p50_ms"], 3),
        })  # fmt: skip
    clear_bot(client, BOT)
    return out
