"""Flatten: cancel a market's open orders and sell what the bot holds, once per request.

`DesiredState.flatten_seq` numbers the requests. Per market, Redis records the
last request carried out (`nb:{B}:flattened`), and the sell orders are keyed
by the request number: a runner that restarts mid-flatten finishes it without
selling twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import cast

from exchange.venue import Venue
from runner import lifecycle, orders
from state_store.models import OUTCOMES, Intent, MarketSnapshot
from state_store.store import Lease, Store

log = logging.getLogger(__name__)

FLATTEN_STRATEGY = "_flatten"


def flatten_due(store: Store, markets: list[str], seq: int) -> list[str]:
    if seq <= 0 or not markets:
        return []
    done = cast(list[str | None], store.client.hmget(store.keys.flattened, markets))
    return [m for m, d in zip(markets, done, strict=True) if int(d or 0) < seq]


def flatten_markets(
    store: Store,
    venue: Venue,
    seq: int,
    snaps: Mapping[str, MarketSnapshot],
    leases: Mapping[str, Lease],
    bids: Mapping[str, Decimal],
) -> int:
    """Flatten every owned market not yet flattened for request `seq`; returns sells placed."""
    due = flatten_due(store, sorted(snaps), seq)
    stats = orders.OrderStats()
    for market in due:
        if flatten_market(store, venue, seq, snaps[market], leases, bids, stats):
            store.client.hset(store.keys.flattened, market, seq)
            log.warning("flattened %s for request %d", market, seq)
    return stats.created


def flatten_market(
    store: Store, venue: Venue, seq: int, snap: MarketSnapshot, leases: Mapping[str, Lease],
    bids: Mapping[str, Decimal], stats: orders.OrderStats,
) -> bool:  # fmt: skip
    """Cancel and sell; True only when the market is done (else it is tried next tick)."""
    _, failed = lifecycle.end_orders(store, venue, snap.open_orders, "cancelled", "flatten")
    held = [o for o in OUTCOMES if snap.position.shares(o) > 0]
    if failed or snap.window is None or market_lease_lost(snap.market, leases):
        return False
    sells = sell_intents(snap, seq, bids)
    if len(sells) < len(held):
        return False  # no bid for a held outcome yet
    planned = orders.plan(store, venue, FLATTEN_STRATEGY, sells, {snap.market: snap.window}, leases)
    fenced, rejected = stats.fenced, stats.rejected
    orders.commit_and_submit(store, venue, planned, stats)
    return (stats.fenced, stats.rejected) == (fenced, rejected)


def market_lease_lost(market: str, leases: Mapping[str, Lease]) -> bool:
    return market not in leases


def sell_intents(snap: MarketSnapshot, seq: int, bids: Mapping[str, Decimal]) -> list[Intent]:
    """Sell every held outcome at its best bid (fill-and-kill)."""
    window = snap.window
    out = []
    for outcome in OUTCOMES:
        shares = snap.position.shares(outcome)
        bid = bids.get(window.token_for(outcome)) if window else None
        if shares > 0 and bid is not None:
            key = f"flatten-{seq}-{outcome}"
            out.append(Intent(key, snap.market, outcome, "SELL", bid, shares, "FAK"))
    return out
