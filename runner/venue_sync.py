"""The runner's own look at the venue's orders, every few seconds (no rq worker needed).

- An order Redis holds as live that the venue ended (a cancel-all at the venue,
  a venue-side expiry) is ended in Redis by `runner.lifecycle.end_canceled`, the
  reconciliation job's rule too (same audit change id: never reported twice); a
  matched one is left to its fills.
- A resting venue order Redis does not know (its create was lost with Redis) is
  adopted (runner.adopt).
"""

from __future__ import annotations

import time

from runner import lifecycle
from runner.adopt import Adopter, adopt_open_orders
from runner.runtime import Runtime
from state_store.models import OrderStatus

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
        ended = gone and (order.updated_at or order.created_at) <= cutoff
        if ended and lifecycle.end_canceled(rt.store, rt.venue, order, adopter.repairs):
            rt.guard.orders_ended += 1
    rt.guard.orders_adopted += adopt_open_orders(rt.store, open_at_venue, adopter)
