"""One owner per lifecycle step: the rules for closing a window and repairing a stuck order.

Each step has exactly one function here, whoever triggers it (see
docs/architecture.md, "Lifecycle owners"):

- `close_ended_windows`: an open window whose end passed is closed after its
  orders ended (cancelled at the venue, expired in Redis). Triggered by every
  runner's tick; the reconciliation job triggers it too, only while no runner
  is alive (nobody else would).
- `repair_stuck`: an order a crash left in `new`/`submitted`. Triggered by the
  tick of the replica leasing its market (which may post it again), and by the
  reconciliation job for orders stuck longer than its threshold (which never
  posts: it adopts the venue's view or expires the order).

- `end_canceled`: an order Redis holds as working that the venue canceled (a
  cancel-all at the venue). Triggered by every runner's venue order sync
  (runner.venue_sync, every few seconds) and by the reconciliation job.

Settling a closed window has one function too, `runner.settlement.settle_market`,
run by its rq job (or inline by a runner when no worker listens).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from exchange.errors import VenueError
from exchange.types import OrderRequest, VenueOrder
from exchange.venue import Venue
from runner.orders import OrderStats, submit
from runner.repairs import RepairLog
from state_store.models import Order, OrderStatus, Window, WindowStatus
from state_store.store import Lease, Store

log = logging.getLogger(__name__)

STUCK = (OrderStatus.NEW, OrderStatus.SUBMITTED)
EXPIRE_AFTER_S = 120.0  # an unposted order on an open window nobody leases is expired then

Repair = Literal["adopted", "expired", "reposted", "waiting"]


@dataclass(frozen=True)
class ClosedWindow:
    market: str
    orders_ended: int


def end_orders(
    store: Store, venue: Venue, orders: Iterable[Order], reason: str, note: str
) -> tuple[int, int]:
    """(ended, failed): an order whose venue cancel failed stays open, to be tried again."""
    ended = failed = 0
    for order in orders:
        if order.status.terminal:
            continue
        if order.venue_order_id:  # a half-done order may have reached the venue: cancel it too
            try:
                venue.cancel(order.venue_order_id)
            except VenueError as exc:
                log.warning("cancel of %s failed: %s", order.client_order_id, exc)
                failed += 1
                continue
        store.cancel_order(order.client_order_id, order.market, reason, note)
        ended += 1
    return ended, failed


def close_ended_windows(
    store: Store, venue: Venue, now: float, note: str = "window ended"
) -> list[ClosedWindow]:
    """Close every open window whose end passed; its orders end first, in Redis and at the venue.

    A window with an order whose venue cancel failed stays open (tried again next time):
    a closed window is never looked at again by a runner.
    """
    ended = [
        s for s in store.snapshot(store.open_markets()).values()
        if s.window is not None and s.window.end_ts <= now
    ]  # fmt: skip
    closed = []
    for snap in ended:
        count, failed = end_orders(store, venue, snap.open_orders, "expired", note)
        if not failed and store.close_window(snap.market).changed:
            closed.append(ClosedWindow(snap.market, count))
    return closed


def repair_stuck(
    store: Store,
    venue: Venue,
    order: Order,
    window: Window | None,
    venue_now: float,
    post: Lease | None = None,
    stats: OrderStats | None = None,
) -> Repair:
    """The one rule set for an order left in new/submitted (raises VenueError: try later).

    `venue_now` is the venue's clock (window times are the venue's).

    1. the venue has it (by its deterministic id): adopt the venue's view;
    2. its window is over (or unknown): expire it;
    3. the caller holds the market's lease (`post`): post it again (idempotent at the venue);
    4. nobody posts it for `EXPIRE_AFTER_S`: expire it; until then wait for the lease holder.
    """
    found = venue.get_order(order.venue_order_id) if order.venue_order_id else None
    if found is not None:
        adopt(store, order, found)
        return "adopted"
    coid, market = order.client_order_id, order.market
    over = window is None or window.status != WindowStatus.OPEN or window.end_ts <= venue_now
    if over:
        store.cancel_order(coid, market, "expired", "never reached the venue")
        return "expired"
    if post is not None:
        req = OrderRequest(
            coid, order.token_id, order.side, order.price, order.size, order.order_type
        )
        submit(store, venue, coid, market, req, stats or OrderStats(), post)
        return "reposted"
    if time.time() - order.created_at >= EXPIRE_AFTER_S:  # created_at: wall clock
        store.cancel_order(coid, market, "expired", "never reached the venue")
        return "expired"
    return "waiting"


def adopt(store: Store, order: Order, found: VenueOrder) -> None:
    """Take the venue's view of an order Redis left half-done."""
    store.ack_order(order.client_order_id, order.market, "live", found.order_id)
    if found.status == "canceled":
        store.cancel_order(order.client_order_id, order.market, "cancelled", "venue canceled")


def end_canceled(store: Store, venue: Venue, order: Order, repairs: RepairLog) -> bool:
    """End in Redis an order the venue canceled (audited once); True when this call ended it.

    False when the venue has it open or matched (its fills arrive through the trades
    feed), or cannot say now (tried again at the next pass).
    """
    if not order.venue_order_id:
        return False
    try:
        found = venue.get_order(order.venue_order_id)
    except VenueError as exc:
        log.warning("venue order %s unavailable: %s", order.venue_order_id, exc)
        return False
    if found is None or found.status != "canceled":
        return False
    coid, note = order.client_order_id, "canceled at the venue"
    if not store.cancel_order(coid, order.market, "cancelled", note).changed:
        return False
    args = {"client_order_id": coid, "market": order.market, "filled": str(order.filled)}
    repairs.record("repair_order_closed", f"close:{coid}", args)
    return True
