"""Trade statuses on fills: unconfirmed until CONFIRMED; a FAILED trade's fill reversed exactly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from state_store.models import Fill, Intent, OrderStatus, Position, Window
from state_store.store import Lease, Store
from tests.state_store.conftest import D

OpenMarket = Callable[..., tuple[Window, Lease]]


def order_of(store: Store, window: Window, lease: Lease, size: str = "10") -> str:
    intent = Intent("entry", window.market, "Up", "BUY", D("0.4"), D(size))
    coid, _ = store.create_order("s", intent, window, lease)
    store.ack_order(coid, window.market, "live", venue_order_id="0xv")
    return coid


def fill(coid: str, window: Window, fill_id: str, size: str, status: str, **kw: object) -> Fill:
    base = Fill(fill_id, coid, window.market, "Up", "BUY", D("0.37"), D(size), 1.0, "0xv")
    return replace(base, trade_status=status, **kw)  # type: ignore[arg-type]


def unconfirmed(store: Store) -> set[str]:
    return {str(m) for m in store.client.smembers(store.keys.unconfirmed_fills)}


def test_matched_fill_counts_and_is_unconfirmed_until_confirmed(
    store: Store, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    coid = order_of(store, window, lease)
    assert store.apply_fill(fill(coid, window, "t1:0xv", "4", "MATCHED")).outcome == "applied"
    assert store.position(window.market).up_shares == D("4")
    assert unconfirmed(store) == {"t1:0xv"}
    mined = store.apply_fill(fill(coid, window, "t1:0xv", "4", "MINED"))
    assert (mined.outcome, mined.detail) == ("duplicate", "MINED")
    older = store.apply_fill(fill(coid, window, "t1:0xv", "4", "MATCHED"))
    assert (older.outcome, older.detail) == ("duplicate", "")  # a status never goes back
    store.apply_fill(fill(coid, window, "t1:0xv", "4", "CONFIRMED"))
    recorded = store.fill("t1:0xv")
    assert recorded is not None and recorded.trade_status == "CONFIRMED"
    assert unconfirmed(store) == set()
    assert store.position(window.market).up_shares == D("4")  # counted once
    assert store.position(window.market).fill_count == 1


def test_failed_trade_leaves_position_and_order_as_if_it_never_happened(
    store: Store, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    coid = order_of(store, window, lease)
    store.apply_fill(fill(coid, window, "t0:0xv", "3", "CONFIRMED", fee=D("0.05")))
    before_pos, before_order = store.position(window.market), store.order(coid)
    failing = fill(coid, window, "t1:0xv", "7", "MATCHED", fee=D("0.0311"))
    assert store.apply_fill(failing).detail == "filled"
    assert store.position(window.market) != before_pos
    reversed_ = store.reverse_fill(replace(failing, trade_status="FAILED"))
    assert reversed_.outcome == "reversed"
    assert store.position(window.market) == replace(before_pos, market=window.market)
    order = store.order(coid)
    assert order is not None and before_order is not None
    assert order.filled == before_order.filled == D("3")
    assert order.status == OrderStatus.CANCELLED  # matched in full at the venue: never rests again
    assert unconfirmed(store) == set()
    again = store.reverse_fill(replace(failing, trade_status="FAILED"))
    assert again.outcome == "duplicate"
    late = store.apply_fill(replace(failing, trade_status="CONFIRMED"))
    assert late.outcome == "duplicate"  # a reversed fill is never applied again
    assert store.position(window.market) == before_pos
    record = store.fill("t1:0xv")
    assert record is not None and record.trade_status == "FAILED"


def test_failed_partial_fill_puts_the_order_back_to_live(
    store: Store, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    coid = order_of(store, window, lease)
    store.apply_fill(fill(coid, window, "t1:0xv", "4", "MATCHED"))
    store.reverse_fill(fill(coid, window, "t1:0xv", "4", "FAILED"))
    order = store.order(coid)
    assert order is not None and order.status == OrderStatus.LIVE and order.filled == 0
    assert coid in {o.client_order_id for o in store.pending_orders()}
    assert store.position(window.market) == Position(window.market)


def test_failed_before_matched_is_recorded_and_never_applied(
    store: Store, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    coid = order_of(store, window, lease)
    first = store.reverse_fill(fill(coid, window, "t1:0xv", "4", "FAILED"))
    assert first.outcome == "recorded"
    assert store.apply_fill(fill(coid, window, "t1:0xv", "4", "MATCHED")).outcome == "duplicate"
    assert store.position(window.market) == Position(window.market)
    order = store.order(coid)
    assert order is not None and order.filled == 0


def test_failed_fill_of_a_settled_window_reprices_its_pnl(
    store: Store, open_market: OpenMarket
) -> None:
    window, lease = open_market()
    coid = order_of(store, window, lease)
    store.apply_fill(fill(coid, window, "t1:0xv", "10", "MINED"))
    store.close_window(window.market)
    store.settle_window(window.market, "Up", "1")
    assert store.position(window.market).realized_pnl == D("6.3")  # 10 x (1 - 0.37)
    store.reverse_fill(fill(coid, window, "t1:0xv", "10", "FAILED"))
    pos = store.position(window.market)
    assert (pos.up_shares, pos.cash, pos.payout, pos.realized_pnl) == (D(0),) * 4
