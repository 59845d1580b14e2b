"""Window end: fix the end price and the winner, cancel resting orders, pay the winners.

Up wins when the end price is at or above the start price (compared as the
reported decimal strings). Each winning share pays 1 (USDC) into the owner's
cash; both outcome positions of the market are then closed (redeemed).
One MULTI per window, and a resolved window is never settled again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from exchange.paper.models import PaperOrder, PaperWindow
from exchange.paper.prices import PriceProcess
from exchange.paper.store import Tx, VenueStore
from exchange.types import Outcome
from state_store.keys import VenueKeys

logger = logging.getLogger(__name__)


class Settlement:
    def __init__(self, store: VenueStore, prices: PriceProcess) -> None:
        self.store = store
        self.keys = store.keys
        self.prices = prices

    def settle_due(self, now: float) -> list[PaperWindow]:
        """Resolve every unresolved window whose end has passed."""
        due = [w for w in self.store.windows(self.store.unresolved()) if now >= w.end_ts]
        resolved = []
        for window in sorted(due, key=lambda w: w.end_ts):
            if not window.closed:
                resolved.append(self.settle(window))
        return resolved

    def settle(self, window: PaperWindow) -> PaperWindow:
        end_price = self.prices.quote(window.asset, window.end_ts)
        winner: Outcome = "Up" if Decimal(end_price) >= Decimal(window.start_price) else "Down"
        resolved = replace(window, end_price=end_price, winner=winner, closed=True)
        tx = self.store.tx()
        tx.hset(self.keys.window(window.slug), resolved.to_hash())
        tx.call("SREM", self.keys.unresolved, window.slug)
        for order in self.store.open_orders():
            if order.market == window.condition_id:
                cancel_order(tx, self.keys, order)
        self._pay(tx, resolved)
        tx.commit()
        logger.info(
            "window %s resolved %s (%s -> %s)", window.slug, winner, window.start_price, end_price
        )
        return resolved

    def _pay(self, tx: Tx, window: PaperWindow) -> None:
        assert window.winner is not None
        winning = window.token(window.winner)
        for owner in self.store.owners():
            pos_key, acct_key = self.keys.positions(owner), self.keys.account(owner)
            shares = Decimal(tx.hget(pos_key, winning) or "0")
            held = [
                t for t in (window.up_token, window.down_token) if tx.hget(pos_key, t) is not None
            ]
            if not held:
                continue
            if shares > 0:
                cash = Decimal(tx.hget(acct_key, "cash") or "0") + shares
                redeemed = Decimal(tx.hget(acct_key, "redeemed") or "0") + shares
                tx.hset(acct_key, {"cash": str(cash), "redeemed": str(redeemed)})
            tx.hdel(pos_key, *held)


def cancel_order(tx: Tx, keys: VenueKeys, order: PaperOrder) -> PaperOrder:
    canceled = replace(order, status="CANCELED")
    tx.hset(keys.order(order.order_id), {"status": canceled.status})
    tx.call("ZREM", keys.open_orders, order.order_id)
    return canceled
