"""Adoption: this bot's venue orders and fills that Redis does not know become Redis records.

Redis can lose acknowledged writes (a restart from an empty or truncated AOF, a
replica promoted while it lagged); the venue still has the orders and fills.
A venue order of the bot's account that `nb:{B}:venue_orders` does not map is
recorded under a client order id derived from its venue order id
(`state_store.models.adopted_client_order_id`), in the market its token belongs
to (the window is recorded too when Redis lost it); its fills then apply as
usual, so positions follow. Nothing is skipped: a fill whose order cannot be
placed in any market is an audit entry. Every adoption is an audit entry
(`runner.repairs`, idempotent by change id).

One venue account per bot: every order of the account is taken as the bot's
(orders carry no bot name; an adopted order's strategy is `(adopted)`). When a
strategy asks again for the very order that was adopted (same intent, same
price and size: the same signed body, so the same venue order id),
`create_order.lua` finds the venue order id taken and makes no second record.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from exchange.errors import VenueError
from exchange.types import VenueFill, VenueOrder
from exchange.venue import Venue
from runner.markets import to_window
from runner.orders import to_fill
from runner.repairs import RepairLog
from state_store import transitions as t
from state_store.models import Fill, Order, Window, adopted_client_order_id
from state_store.store import Store

log = logging.getLogger(__name__)


class Adopter:
    """Adopts unknown venue orders into Redis; one per pass (its token map is a cache)."""

    def __init__(self, store: Store, venue: Venue, repairs: RepairLog) -> None:
        self.store = store
        self.venue = venue
        self.repairs = repairs
        self._tokens: dict[str, Window] | None = None
        self.adopted = 0
        self.unplaced = 0

    # -- which market an order belongs to ---------------------------------------
    def window_of(self, token_id: str, condition_id: str) -> Window | None:
        if self._tokens is None or token_id not in self._tokens:
            self._tokens = self._index(self.store.windows())
        if token_id in self._tokens:
            return self._tokens[token_id]
        found = self._venue_window(condition_id)
        if found is None or token_id not in (found.up_token, found.down_token):
            return None
        self.store.open_window(found)  # Redis lost the window too: record it again
        self._tokens.update(self._index([found]))
        return found

    def _venue_window(self, condition_id: str) -> Window | None:
        lookup = getattr(self.venue, "market_window", None)
        if lookup is not None and condition_id:
            mw = lookup(condition_id)
            return to_window(mw) if mw is not None else None
        for mw in self.venue.list_windows():
            if mw.condition_id == condition_id:
                return to_window(mw)
        return None

    @staticmethod
    def _index(windows: Sequence[Window]) -> dict[str, Window]:
        return {tok: w for w in windows for tok in (w.up_token, w.down_token)}

    # -- orders -----------------------------------------------------------------
    def adopt(self, found: VenueOrder) -> Order | None:
        """The Redis order of a venue order, adopting it when Redis does not know it."""
        window = self.window_of(found.token_id, found.market)
        if window is None:
            self._unplaced("order", found.order_id, {"venue_order_id": found.order_id,
                           "token_id": found.token_id, "condition_id": found.market})  # fmt: skip
            return None
        coid = adopted_client_order_id(self.store.bot, found.order_id)
        adoption = t.Adoption(
            coid, window.market, window.outcome_of(found.token_id), found.token_id, found.side,
            found.price, found.original_size, found.order_id,
            "cancelled" if found.status == "canceled" else "live",
        )  # fmt: skip
        result = self.store.run(t.adopt_order(self.store.keys, adoption))
        if result.outcome == "known":
            coid = result.detail
        elif result.outcome == "created":
            self.adopted += 1
            args = {"client_order_id": coid, "market": window.market,
                    "venue_order_id": found.order_id, "side": found.side,
                    "price": str(found.price), "size": str(found.original_size),
                    "venue_status": found.status}  # fmt: skip
            self.repairs.record("repair_order_adopted_from_venue", f"adopt:{found.order_id}", args)
        return self.store.order(coid)

    def order_for_fill(self, fill: VenueFill) -> Order | None:
        """The order of a fill whose venue order id Redis does not map (adopting it)."""
        found = self.venue.get_order(fill.order_id)  # VenueError: tried again next time
        if found is None:  # the venue reports the fill but not the order: take the fill's word
            found = VenueOrder(
                fill.order_id, fill.token_id, fill.market, fill.side, fill.price, fill.size,
                fill.size, "matched",
            )  # fmt: skip
        return self.adopt(found)

    def _unplaced(self, what: str, ident: str, args: dict[str, Any]) -> None:
        self.unplaced += 1
        log.error("venue %s %s belongs to no market the venue knows: not adopted", what, ident)
        self.repairs.record(f"repair_{what}_unplaced", f"unplaced:{ident}", args)


def restore_fills(store: Store, fills: Sequence[VenueFill], adopter: Adopter) -> int:
    """Apply every fill Redis lacks (adopting its order when needed), each audited."""
    pipe = store.client.pipeline(transaction=False)
    for fill in fills:
        pipe.exists(store.keys.fill(fill.fill_id))
    missing = [
        f for f, known in zip(fills, pipe.execute(), strict=True) if not known and not f.failed
    ]
    restored = 0
    for fill in missing:
        coid = store.coid_for_venue_order(fill.order_id)
        order = store.order(coid) if coid else adopter.order_for_fill(fill)
        if order is None:
            continue
        result = store.run(t.apply_fill(store.keys, to_fill(fill, order)))
        if result.outcome != "applied":
            continue
        restored += 1
        adopter.repairs.record(
            "repair_fill", f"fill:{fill.fill_id}",
            {"fill_id": fill.fill_id, "client_order_id": order.client_order_id,
             "market": order.market, "side": order.side, "price": str(fill.price),
             "size": str(fill.size), "status": result.detail},
        )  # fmt: skip
    return restored


def audit_reversal(repairs: RepairLog, fill: Fill) -> None:
    """One audit entry per reversed fill (whoever reversed it: a runner or reconciliation)."""
    repairs.record(
        "fill_reversed", f"reverse:{fill.fill_id}",
        {"fill_id": fill.fill_id, "client_order_id": fill.client_order_id,
         "market": fill.market, "outcome": fill.outcome, "side": fill.side,
         "price": str(fill.price), "size": str(fill.size), "fee": str(fill.fee),
         "reason": "venue trade FAILED"},
    )  # fmt: skip


def adopt_open_orders(store: Store, open_at_venue: Sequence[VenueOrder], adopter: Adopter) -> int:
    """Adopt the venue's resting orders that Redis does not map; returns how many."""
    if not open_at_venue:
        return 0
    pipe = store.client.pipeline(transaction=False)
    for order in open_at_venue:
        pipe.hexists(store.keys.venue_orders, order.order_id)
    before = adopter.adopted
    for order, known in zip(open_at_venue, pipe.execute(), strict=True):
        if not known:
            try:
                adopter.adopt(order)
            except VenueError as exc:
                log.warning("adopting venue order %s failed, next pass: %s", order.order_id, exc)
    return adopter.adopted - before
