"""Helpers shared by the example strategies (a change here reloads both of them).

Pure functions only: no state, no I/O. Imported relatively (`from . import
_common`) so that the reloader loads it as part of the same code generation.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, Decimal

from state_store.models import Intent, Outcome
from state_store.view import MarketView

SECONDS_PER_YEAR = 365.25 * 24 * 3600


def prob_up(reference: Decimal, start: Decimal, time_left: float, annual_vol: float) -> float:
    """Probability that the price ends >= start, for a driftless log-normal walk."""
    if time_left <= 0:
        return 1.0 if reference >= start else 0.0
    sigma = annual_vol / math.sqrt(SECONDS_PER_YEAR) * math.sqrt(time_left)
    z = math.log(float(reference) / float(start)) / sigma
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def on_tick(price: Decimal, tick: Decimal) -> Decimal:
    """Round a price down onto the market's tick grid."""
    return (price / tick).to_integral_value(rounding=ROUND_DOWN) * tick


def buy(market: MarketView, outcome: Outcome, price: Decimal, size: Decimal, key: str) -> Intent:
    """A take-liquidity buy (fill-and-kill) on the tick grid."""
    return Intent(
        key=key,
        market=market.market,
        outcome=outcome,
        side="BUY",
        price=on_tick(price, market.tick_size),
        size=max(size, market.min_order_size),
        order_type="FAK",
    )


def holds(market: MarketView, outcome: Outcome) -> bool:
    """Whether the bot already holds shares of, or has an open order for, this outcome."""
    if market.position.shares(outcome) > 0:
        return True
    return any(o.outcome == outcome for o in market.open_orders)
