"""Invariants of several replicas trading one bot, against Redis, the lease log and the venue.

Each check raises AssertionError naming the first violation; they are plain
functions so a fast test can feed them fabricated data and see them fail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from exchange.types import VenueFill
from exchange.venue import Venue
from state_store.models import Order, OrderStatus, Window, WindowStatus
from state_store.store import Store

CLOCK_SLACK_S = 0.002  # created_at is rounded to the millisecond


def check_fencing(orders: Iterable[Order], grants: Sequence[dict[str, Any]]) -> None:
    """Every order was created by the replica holding its market's lease, under the token
    in force: after that token was granted and before the market's next grant."""
    by_market: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for grant in sorted(grants, key=lambda g: g["token"]):
        by_market[grant["market"]].append(grant)
    for order in orders:
        chain = by_market.get(order.market, [])
        index = next((i for i, g in enumerate(chain) if g["token"] == order.fence), None)
        assert index is not None, f"{order.client_order_id}: token {order.fence} never granted"
        grant = chain[index]
        assert grant["replica"] == order.replica, (
            f"{order.client_order_id} created by {order.replica} under the token of "
            f"{grant['replica']} ({order.fence})"
        )
        assert order.created_at >= grant["ts"] - CLOCK_SLACK_S, (
            f"{order.client_order_id} created at {order.created_at} before its token "
            f"{order.fence} was granted at {grant['ts']}"
        )
        if index + 1 < len(chain):
            after = chain[index + 1]
            assert order.created_at <= after["ts"] + CLOCK_SLACK_S, (
                f"{order.client_order_id} created at {order.created_at} with the stale token "
                f"{order.fence} of {order.replica}: token {after['token']} went to "
                f"{after['replica']} at {after['ts']}"
            )


def check_venue_ledger(store: Store, venue: Venue, orders: Sequence[Order]) -> list[VenueFill]:
    """One venue order per Redis order and back; filled sizes and positions as the venue's."""
    by_venue_id = {o.venue_order_id: o for o in orders}
    assert len(by_venue_id) == len(orders), "two of our orders share a venue order id"
    fills, _ = venue.fills_since(None)
    filled: dict[str, Decimal] = defaultdict(Decimal)
    shares: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for fill in fills:
        order = by_venue_id.get(fill.order_id)
        assert order is not None, f"venue order {fill.order_id} is not ours: a duplicate"
        filled[fill.order_id] += fill.size
        sign = 1 if order.side == "BUY" else -1
        shares[(order.market, order.outcome)] += sign * fill.size
    for order in orders:
        mine = [(f.fill_id, f.ts, str(f.size)) for f in fills if f.order_id == order.venue_order_id]
        assert order.filled == filled[order.venue_order_id], f"filled differs: {order} {mine}"
        assert order.status not in (OrderStatus.NEW, OrderStatus.SUBMITTED), f"half-done: {order}"
    for market in {o.market for o in orders}:
        pos = store.position(market)
        assert pos.up_shares == shares[(market, "Up")], f"{market} Up shares vs venue"
        assert pos.down_shares == shares[(market, "Down")], f"{market} Down shares vs venue"
    open_at_venue = {o.order_id for o in venue.open_orders()}
    assert open_at_venue <= set(by_venue_id), "an order open at the venue is not ours"
    return fills


def check_settled_once(store: Store, venue: Venue, windows: Iterable[Window]) -> int:
    """Every closed window settled by the venue's winner, with the PnL its position implies;
    settling again changes nothing. Returns how many windows were checked."""
    count = 0
    for window in windows:
        assert window.status != WindowStatus.CLOSED, f"{window.market} closed, never settled"
        if window.status != WindowStatus.SETTLED:
            continue
        resolution = venue.resolution(window.market)
        assert resolution is not None and resolution.winner == window.winner, window
        pos = store.position(window.market)
        payout = max(pos.shares(resolution.winner), Decimal(0))
        assert pos.settled and pos.payout == payout, f"{window.market}: payout {pos}"
        assert pos.realized_pnl == pos.cash + payout, f"{window.market}: PnL {pos}"
        again = store.settle_window(window.market, resolution.winner, resolution.end_price or "")
        assert again.outcome == "already", f"{window.market} settled twice: {again}"
        count += 1
    return count
