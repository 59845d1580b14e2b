"""The runner's own look at the venue's orders, every few seconds (no rq worker needed).

- An order Redis holds as live that the venue ended (a cancel-all at the venue,
  a venue-side expiry) is ended in Redis (`cancelled`), audited as the
  reconciliation job would (same change id, so the two never report it twice);
  a matched one is left to its fills.
- A resting venue order Redis does not know (its create was lost with Redis) is
  adopted (runner.adopt).
"""

from __future__ import annotations

import logging
import time

from exchange.errors import VenueError
from runner.adopt import Adopter, adopt_open_orders
from runner.repairs import RepairLog
from runner.runtime import Runtime
from state_store.models import Order, OrderStatus

log = logging.getLogger(__name__)

SYNC_EVERY_S = 2.0
SETTLE_S = 1.0  # an order acknowledged this recently may not be in the venue's list yet
WORKING = (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED)


def sync_orders(rt: Runtime, adopter: Adopter, every_s: float = SYNC_EVERY_S) -> None:
    """Compare Redis's working orders with the venue's resting ones, at most every `every_s`."""
    now = time.monotonic()
    if now - rt.guard.venue_synced_at < every_s:
        return
    rt.guard.venue_synced_at = now
    open_at_venue = rt.venue.open_orders()
    resting = {o.order_id for o in open_at_venue}
    cutoff = time.time() - SETTLE_S
    for order in rt.store.pending_orders():
        gone = order.status in WORKING and order.venue_order_id not in resting
        if gone and (order.updated_at or order.created_at) <= cutoff:
            end_if_ended(rt, adopter.repairs, order)
    rt.guard.orders_adopted += adopt_open_orders(rt.store, open_at_venue, adopter)


def end_if_ended(rt: Runtime, repairs: RepairLog, order: Order) -> bool:
    """End `order` in Redis when the venue canceled it; True when this call ended it."""
    try:
        found = rt.venue.get_order(order.venue_order_id)
    except VenueError as exc:
        log.warning("venue order %s unavailable: %s", order.venue_order_id, exc)
        return False
    if found is None or found.status != "canceled":
        return False  # matched: its fills arrive through the trades feed
    coid, note = order.client_order_id, "canceled at the venue"
    if not rt.store.cancel_order(coid, order.market, "cancelled", note).changed:
        return False
    rt.guard.orders_ended += 1
    args = {"client_order_id": coid, "market": order.market, "filled": str(order.filled)}
    repairs.record("repair_order_closed", f"close:{coid}", args)
    return True
