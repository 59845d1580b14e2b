from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import redis

from exchange.venue import Venue
from runner.orders import poll_fills
from runner.tick import merged_params, run_tick
from state_store.desired import DesiredState
from state_store.models import OrderStatus
from tests.runner.conftest import BOTH_VENUES, RuntimeFactory
from tests.runner.strategy_sources import always_buy


def only_always(strategies_dir: Path, tag: str = "v1") -> None:
    for path in strategies_dir.glob("*.py"):
        path.unlink()
    (strategies_dir / "always.py").write_text(always_buy(tag))


def ledger(venue: Venue) -> dict[str, Decimal]:
    """Net shares per venue order id, from the venue's own trades."""
    fills, _ = venue.fills_since(None)
    out: dict[str, Decimal] = {}
    for f in fills:
        out[f.order_id] = out.get(f.order_id, Decimal(0)) + f.size
    return out


@BOTH_VENUES
def test_tick_records_windows_takes_leases_and_reports(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    report = run_tick(rt)
    assert report.tick == 1 and report.markets > 0
    assert set(rt.leases) == {w.market for w in rt.store.windows() if w.status == "open"}
    status = json.loads(rt.settings.status_file.read_text())
    section = status["runners"]["r1"]
    assert section["tick"] == 1 and section["code"]["generation"]
    assert rt.client.exists(rt.store.keys.runner("r1"))


@BOTH_VENUES
def test_orders_reach_the_venue_once_and_fills_match_its_ledger(
    make_runtime: RuntimeFactory, strategies_dir: Path, venue: Venue
) -> None:
    only_always(strategies_dir)
    rt = make_runtime()
    for _ in range(5):
        run_tick(rt)
    for _ in range(100):  # a loaded machine may need more ticks for the first fill
        if any(f.fee > 0 for f in venue.fills_since(None)[0]):  # a maker fill pays none
            break
        run_tick(rt)
    poll_fills(rt.store, rt.venue)  # fills of an order the last tick placed (a new window)
    orders = [o for m in rt.store.markets() for o in rt.store.market_orders(m)]
    assert orders, "the always-buy strategy placed nothing"
    assert len({o.client_order_id for o in orders}) == len(orders)
    assert all(o.status not in (OrderStatus.NEW, OrderStatus.SUBMITTED) for o in orders)
    venue_ledger = ledger(venue)
    for order in orders:
        assert order.filled == venue_ledger.get(order.venue_order_id, Decimal(0))
    fills, _ = venue.fills_since(None)
    assert sum(f.fee for f in fills) > 0  # the always-buy strategy takes: it pays fees
    recorded = [r for f in fills if (r := rt.store.fill(f.fill_id)) is not None]
    assert {r.fill_id: r.fee for r in recorded} == {f.fill_id: f.fee for f in fills}
    for market in rt.store.markets():
        pos = rt.store.position(market)
        filled = sum((o.filled for o in rt.store.market_orders(market)), Decimal(0))
        assert pos.up_shares == filled
        assert pos.fees == sum((r.fee for r in recorded if r.market == market), Decimal(0))
        assert pos.cash == -pos.buy_notional + pos.sell_notional - pos.fees  # net of fees


@BOTH_VENUES
def test_paused_bot_places_no_orders(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    only_always(strategies_dir)
    rt = make_runtime()
    paused = DesiredState(version=1, paused=True)
    real_redis.hset(rt.store.keys.control, mapping=cast(Any, paused.to_redis()))
    for _ in range(3):
        report = run_tick(rt)
        assert report.paused and report.created == 0
    assert rt.store.pending_orders() == [] and not rt.store.market_orders(rt.store.markets()[0])


@BOTH_VENUES
def test_strategy_exception_is_contained_and_counted(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    (strategies_dir / "bad.py").write_text("def decide(view):\n    raise ValueError('nope')\n")
    rt = make_runtime()
    for _ in range(3):
        run_tick(rt)
    assert rt.counters.strategy_errors.get("bad") == 3
    assert "nope" in rt.counters.last_errors["bad"]


def test_config_overrides_keep_known_keys_of_the_right_kind() -> None:
    defaults = {"size": 5, "edge": 0.02, "on": True, "tag": "a"}
    overrides = {"size": 7, "edge": 1, "on": "yes", "tag": "b", "unknown": 1}
    assert merged_params(defaults, overrides) == {"size": 7, "edge": 1, "on": True, "tag": "b"}
