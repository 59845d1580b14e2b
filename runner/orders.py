"""From intents to venue orders and back: commit, submit, reconcile, apply fills.

The order of work makes a crash anywhere harmless:
1. the order is created in Redis (Lua, fenced, idempotent by client order id)
   together with the venue order id its signed body will have;
2. it is marked submitted, then posted (posting is idempotent at the venue);
3. the venue's answer is recorded; fills arrive through the trades feed and
   are applied by fill id.
A restarted runner finds orders left in `new`/`submitted` and asks the venue
about them by their deterministic id (`reconcile_stuck`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from exchange.errors import OrderRejected, VenueError
from exchange.types import OrderRequest, PlaceResult, VenueFill, VenueOrder
from exchange.venue import Venue
from state_store import transitions as t
from state_store.models import Fill, Intent, Order, OrderStatus, Window
from state_store.store import Lease, Store

log = logging.getLogger(__name__)

STUCK = (OrderStatus.NEW, OrderStatus.SUBMITTED)


@dataclass(frozen=True)
class Planned:
    """An intent bound to its market window, lease and ids."""

    strategy: str
    intent: Intent
    window: Window
    lease: Lease
    coid: str
    request: OrderRequest


@dataclass
class OrderStats:
    created: int = 0
    submitted: int = 0
    rejected: int = 0
    fenced: int = 0
    fills: int = 0
    reconciled: int = 0


def plan(
    store: Store,
    venue: Venue,
    strategy: str,
    intents: Iterable[Intent],
    windows: Mapping[str, Window],
    leases: Mapping[str, Lease],
) -> list[Planned]:
    out = []
    for intent in intents:
        window, lease = windows.get(intent.market), leases.get(intent.market)
        if window is None or lease is None:
            continue
        coid = store.client_order_id(strategy, intent, window)
        request = OrderRequest(
            coid, window.token_for(intent.outcome), intent.side, intent.price, intent.size,
            intent.order_type,
        )  # fmt: skip
        out.append(Planned(strategy, intent, window, lease, coid, request))
    return out


def commit_and_submit(
    store: Store, venue: Venue, planned: Sequence[Planned], stats: OrderStats
) -> None:
    """Create every planned order in one round trip, then submit the new ones."""
    ids = {p.coid: venue.order_id_for(p.request) for p in planned}
    calls = [
        t.create_order(store.keys, p.coid, p.strategy, p.intent, p.window, p.lease, ids[p.coid])
        for p in planned
    ]
    for p, result in zip(planned, store.execute(calls), strict=True):
        if result.outcome == "created":
            stats.created += 1
            submit(store, venue, p.coid, p.intent.market, p.request, stats)
        elif result.outcome == "fenced":
            stats.fenced += 1
            log.warning("lease on %s lost before creating %s", p.intent.market, p.coid)


def submit(
    store: Store, venue: Venue, coid: str, market: str, req: OrderRequest, stats: OrderStats
) -> None:
    store.ack_order(coid, market, "submitted")
    try:
        placed = venue.place(req)
    except OrderRejected as exc:
        stats.rejected += 1
        store.ack_order(coid, market, "rejected", error=str(exc)[:500])
        return
    stats.submitted += 1
    record_placement(store, coid, market, placed)


def record_placement(store: Store, coid: str, market: str, placed: PlaceResult) -> None:
    if not placed.success:
        store.ack_order(coid, market, "rejected", placed.order_id, placed.error[:500])
    elif placed.status in ("live", "matched"):
        store.ack_order(coid, market, "live", placed.order_id)
    elif placed.status == "delayed":
        store.ack_order(coid, market, "submitted", placed.order_id)
    else:  # unmatched FAK/FOK, or canceled: the order is over; fills still count
        store.ack_order(coid, market, "live", placed.order_id)
        store.cancel_order(coid, market, "cancelled", placed.status)


def reconcile_stuck(
    store: Store, venue: Venue, orders: Iterable[Order], windows: Mapping[str, Window],
    stats: OrderStats, now: float,
) -> None:  # fmt: skip
    """Orders a crash left in new/submitted: adopt the venue's view, or post again."""
    for order in orders:
        if order.status not in STUCK or not order.venue_order_id:
            continue
        stats.reconciled += 1
        found = venue.get_order(order.venue_order_id)
        if found is not None:
            adopt(store, order, found)
            continue
        window = windows.get(order.market)
        if window is None or window.end_ts <= now:
            store.cancel_order(
                order.client_order_id, order.market, "expired", "never reached venue"
            )
            continue
        req = OrderRequest(
            order.client_order_id, order.token_id, order.side, order.price, order.size,
            order.order_type,
        )  # fmt: skip
        submit(store, venue, order.client_order_id, order.market, req, stats)


def adopt(store: Store, order: Order, found: VenueOrder) -> None:
    store.ack_order(order.client_order_id, order.market, "live", found.order_id)
    if found.status == "canceled":
        store.cancel_order(order.client_order_id, order.market, "cancelled", "venue canceled")


def expire_orders(
    store: Store,
    venue: Venue,
    orders: Iterable[Order],
    reason: str = "expired",
    note: str = "window ended",
) -> int:
    """Cancel open orders at the venue and end them in Redis (expired, by default)."""
    count = 0
    for order in orders:
        if order.status.terminal:
            continue
        if order.venue_order_id:  # a half-done order may have reached the venue: cancel it too
            try:
                venue.cancel(order.venue_order_id)
            except VenueError as exc:
                log.warning("cancel of %s failed: %s", order.client_order_id, exc)
                continue
        store.cancel_order(order.client_order_id, order.market, reason, note)
        count += 1
    return count


def apply_venue_fills(store: Store, fills: Sequence[VenueFill]) -> int:
    """Record venue fills of our orders (by venue order id); returns how many were new."""
    if not fills:
        return 0
    pipe = store.client.pipeline(transaction=False)
    for fill in fills:
        pipe.hget(store.keys.venue_orders, fill.order_id)
    coids = pipe.execute()
    orders = {c: store.order(c) for c in set(coids) if c}
    calls = []
    for fill, coid in zip(fills, coids, strict=True):
        order = orders.get(coid) if coid else None
        if order is None:
            continue  # not one of this bot's orders
        calls.append(t.apply_fill(store.keys, to_fill(fill, order)))
    return sum(r.outcome == "applied" for r in store.execute(calls))


def to_fill(fill: VenueFill, order: Order) -> Fill:
    return Fill(
        fill.fill_id, order.client_order_id, order.market, order.outcome, order.side,
        fill.price, fill.size, fill.ts, fill.order_id,
    )  # fmt: skip


def poll_fills(store: Store, venue: Venue) -> tuple[int, str | None]:
    """Fetch fills after the bot's cursor, apply them, then advance the cursor.

    Returns how many fills were new and the cursor now in force.
    """
    raw = store.client.get(store.keys.fill_cursor)
    cursor = str(raw) if raw else None
    fills, next_cursor = venue.fills_since(cursor)
    applied = apply_venue_fills(store, fills)
    if next_cursor and next_cursor != cursor:
        store.client.set(store.keys.fill_cursor, next_cursor)
        cursor = next_cursor
    return applied, cursor
