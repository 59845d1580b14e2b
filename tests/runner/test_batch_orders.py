"""A tick's new orders go to the venue in one `POST /orders` (runner.orders.submit_batch)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis

from exchange.types import OrderRequest, PlaceResult
from runner import orders
from runner.tick import run_tick
from state_store.models import Intent
from state_store.store import Store
from tests.runner.conftest import BOTH_VENUES, RuntimeFactory
from tests.runner.test_tick import only_always
from tests.state_store.conftest import make_window


@BOTH_VENUES
def test_a_ticks_orders_are_posted_in_one_batch(
    make_runtime: RuntimeFactory, strategies_dir: Path, venue_app: Any
) -> None:
    only_always(strategies_dir)  # one FAK buy per market
    rt = make_runtime()
    report = run_tick(rt)
    counts = venue_app.state.request_counts
    assert report.created > 1
    assert counts.get("POST /orders") == 1 and counts.get("POST /order") == 0
    assert rt.store.pending_orders() == []  # every answer recorded


class BatchVenue:
    """Answers a batch: the order whose size is 13 is refused, the others rest."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.placed: list[str] = []

    def order_id_for(self, req: OrderRequest) -> str:
        return "0x" + req.client_order_id

    def place(self, req: OrderRequest) -> PlaceResult:
        self.placed.append(req.client_order_id)
        return PlaceResult("0x" + req.client_order_id, "live", True, "", Decimal(0), Decimal(0))

    def place_many(self, reqs: Sequence[OrderRequest]) -> list[PlaceResult]:
        self.batches.append([r.client_order_id for r in reqs])
        return [
            PlaceResult(
                "0x" + r.client_order_id, "unmatched" if r.size == 13 else "live", r.size != 13,
                "not enough balance" if r.size == 13 else "", Decimal(0), Decimal(0),
            )
            for r in reqs
        ]  # fmt: skip


def buy(market: str, key: str, size: int) -> Intent:
    return Intent(key, market, "Up", "BUY", Decimal("0.4"), Decimal(size))


def test_each_answer_of_a_batch_is_recorded(real_redis: redis.Redis) -> None:
    store, venue = Store(real_redis, "t"), BatchVenue()
    windows = {m: make_window(m) for m in ("a", "b")}
    for window in windows.values():
        store.open_window(window)
    leases = {m: store.claim_lease(m, "r1", 30_000) for m in windows}
    intents = [buy("a", "k1", 10), buy("b", "k2", 13)]
    planned = orders.plan(store, venue, "s", intents, windows, leases)  # type: ignore[arg-type]
    stats = orders.OrderStats()
    orders.commit_and_submit(store, venue, planned, stats)  # type: ignore[arg-type]
    assert venue.batches == [[p.coid for p in planned]] and venue.placed == []
    live, refused = (store.order(p.coid) for p in planned)
    assert live is not None and live.status == "live"
    assert refused is not None and refused.status == "rejected"
    assert stats.created == 2


def test_one_new_order_is_posted_alone(real_redis: redis.Redis) -> None:
    store, venue, window = Store(real_redis, "t"), BatchVenue(), make_window("a")
    store.open_window(window)
    lease = store.claim_lease("a", "r1", 30_000)
    planned = orders.plan(store, venue, "s", [buy("a", "k1", 10)], {"a": window}, {"a": lease})  # type: ignore[arg-type,dict-item]
    orders.commit_and_submit(store, venue, planned, orders.OrderStats())  # type: ignore[arg-type]
    assert venue.placed == [planned[0].coid] and venue.batches == []
