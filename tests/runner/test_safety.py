"""Regressions for the failure modes a review found: each fails on the code before its fix."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import redis

from exchange.client import ClobClient
from exchange.types import OrderRequest, PlaceResult
from runner import orders
from runner.flatten import flatten_markets
from runner.loop import Loop
from runner.memory import current_memory
from runner.tick import run_tick
from state_store.models import Fill, Intent
from state_store.store import Store
from state_store.transitions import notional
from tests.runner.conftest import BOTH_VENUES, RuntimeFactory
from tests.runner.test_tick import only_always
from tests.state_store.conftest import make_window


class RecordingVenue:
    def __init__(self) -> None:
        self.placed: list[str] = []
        self.cancelled: list[str] = []

    def order_id_for(self, req: OrderRequest) -> str:
        return "0x" + req.client_order_id

    def place(self, req: OrderRequest) -> PlaceResult:
        self.placed.append(req.client_order_id)
        return PlaceResult("0x" + req.client_order_id, "live", True, "", Decimal(0), Decimal(0))

    def cancel(self, order_id: str) -> bool:
        self.cancelled.append(order_id)
        return True


def buy(market: str) -> Intent:
    return Intent("k", market, "Up", "BUY", Decimal("0.4"), Decimal("10"))


def test_a_replica_that_lost_its_lease_does_not_post(real_redis: redis.Redis) -> None:
    store, venue, window = Store(real_redis, "t"), RecordingVenue(), make_window("m")
    store.open_window(window)
    lease = store.claim_lease("m", "r1", 30_000)
    assert lease is not None
    [planned] = orders.plan(store, venue, "s", [buy("m")], {"m": window}, {"m": lease})  # type: ignore[arg-type]
    store.create_order("s", planned.intent, window, lease, "0x" + planned.coid)
    store.release_lease(lease)  # r1 froze; r2 took the market over
    assert store.claim_lease("m", "r2", 30_000) is not None
    stats = orders.OrderStats()
    orders.submit(store, venue, planned.coid, "m", planned.request, stats, lease)  # type: ignore[arg-type]
    assert venue.placed == [] and stats.fenced == 1


def test_a_post_that_lands_after_the_order_ended_is_cancelled_at_the_venue(
    real_redis: redis.Redis,
) -> None:
    store, venue, window = Store(real_redis, "t"), RecordingVenue(), make_window("m")
    store.open_window(window)
    lease = store.claim_lease("m", "r1", 30_000)
    assert lease is not None
    coid, _ = store.create_order("s", buy("m"), window, lease, "0xv")
    store.cancel_order(coid, "m", "cancelled", "flatten")
    placed = PlaceResult("0xv", "live", True, "", Decimal(0), Decimal(0))
    orders.record_placement(store, venue, coid, "m", "GTC", placed)  # type: ignore[arg-type]
    assert venue.cancelled == ["0xv"]


@BOTH_VENUES
def test_fak_orders_are_not_left_pending(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    only_always(strategies_dir)  # buys with FAK orders
    rt = make_runtime()
    for _ in range(3):
        run_tick(rt)
    assert rt.counters.orders_created > 0
    assert rt.store.pending_orders() == []


BAD_INTENTS = {
    "sub-micro size": 'Decimal("5.0000001")',
    "float price": "0.25",
    "NaN size": 'Decimal("NaN")',
    "None price": "None",
}


@BOTH_VENUES
def test_bad_intents_are_contained_as_strategy_failures(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    for path in strategies_dir.glob("*.py"):
        path.unlink()
    for n, value in enumerate(BAD_INTENTS.values()):
        price = value if "price" in list(BAD_INTENTS)[n] else 'Decimal("0.5")'
        size = value if "size" in list(BAD_INTENTS)[n] else "Decimal(5)"
        (strategies_dir / f"bad{n}.py").write_text(
            "from decimal import Decimal\nfrom state_store.models import Intent\n\n"
            "def decide(view):\n"
            f"    return [Intent('k', m.market, 'Up', 'BUY', {price}, {size})\n"
            "            for m in view.markets]\n"
        )
    rt = make_runtime()
    report = run_tick(rt)
    assert {o.name for o in report.outcomes if o.failed} == {f"bad{n}" for n in range(4)}
    assert rt.store.pending_orders() == []


def test_a_fill_with_a_nine_decimal_notional_is_recorded(real_redis: redis.Redis) -> None:
    store, window = Store(real_redis, "t"), make_window("m")
    store.open_window(window)
    lease = store.claim_lease("m", "r1", 30_000)
    assert lease is not None
    coid, _ = store.create_order("s", buy("m"), window, lease)
    fill = Fill("f1", coid, "m", "Up", "BUY", Decimal("0.537"), Decimal("1.234567"))
    assert notional(fill) == Decimal("0.662962")
    assert store.apply_fill(fill).outcome == "applied"


def test_memory_of_a_newer_schema_is_neither_migrated_down_nor_overwritten(
    real_redis: redis.Redis,
) -> None:
    store = Store(real_redis, "t")
    real_redis.hset(store.keys.memory("s"), mapping={"count2": "7", "_version": "2"})
    stored: Any = real_redis.hgetall(store.keys.memory("s"))
    memory, writable = current_memory(real_redis, store.keys, "s", stored, 1, None)
    assert memory == {"count2": "7"} and not writable
    assert real_redis.hgetall(store.keys.memory("s")) == {"count2": "7", "_version": "2"}


def test_flatten_is_not_marked_done_while_a_held_outcome_has_no_bid(
    real_redis: redis.Redis,
) -> None:
    store, venue, window = Store(real_redis, "t"), RecordingVenue(), make_window("m")
    store.open_window(window)
    lease = store.claim_lease("m", "r1", 30_000)
    assert lease is not None
    coid, _ = store.create_order("s", buy("m"), window, lease)
    store.apply_fill(Fill("f1", coid, "m", "Up", "BUY", Decimal("0.4"), Decimal("10")))
    snaps = store.snapshot(["m"])
    flatten_markets(store, venue, 1, snaps, {"m": lease}, bids={})  # type: ignore[arg-type]
    assert real_redis.hget(store.keys.flattened, "m") is None
    bids = {window.up_token: Decimal("0.38")}
    flatten_markets(store, venue, 1, store.snapshot(["m"]), {"m": lease}, bids)  # type: ignore[arg-type]
    assert real_redis.hget(store.keys.flattened, "m") == "1"
    sells = [o for o in store.market_orders("m") if o.side == "SELL"]
    assert [(o.size, o.price) for o in sells] == [(Decimal(10), Decimal("0.38"))]


class ExplodingVenue:
    def __init__(self, venue: ClobClient) -> None:
        self._venue = venue

    def list_windows(self) -> Any:
        raise RuntimeError("unexpected payload")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venue, name)


@BOTH_VENUES
def test_an_unexpected_error_in_a_tick_does_not_end_the_loop(
    make_runtime: RuntimeFactory, venue: ClobClient
) -> None:
    rt = make_runtime()
    rt.venue = ExplodingVenue(venue)
    loop = Loop(rt)
    loop.one_tick()
    loop.one_tick()
    assert rt.counters.loop_errors == 2 and "unexpected payload" in rt.counters.last_loop_error
    rt.venue = venue
    loop.one_tick()
    assert rt.counters.loop_errors == 2 and rt.tick == 3  # the tick after ran normally
