"""Late-window momentum: near the end of a window, buy the side the reference
price favours when the book prices it below its fair probability."""

from __future__ import annotations

from decimal import Decimal

from state_store.models import Outcome
from state_store.view import Decision, View

from . import _common

PARAMS = {
    "late_fraction": 0.35,  # act only in the last 35% of a window
    "min_edge": 0.04,  # fair probability minus ask, at least
    "max_price": 0.97,  # never pay more than this
    "size": 5,  # shares per entry
    "annual_vol": 0.6,  # volatility used for the fair probability
}


def decide(view: View) -> list[Decision]:
    p = view.params
    decisions: list[Decision] = []
    for market in view.markets:
        if market.reference_price is None or market.start_price is None:
            continue
        if market.time_left > float(p["late_fraction"]) * market.duration:
            continue
        up = _common.prob_up(
            market.reference_price, market.start_price, market.time_left, float(p["annual_vol"])
        )
        favoured: Outcome = "Up" if up >= 0.5 else "Down"
        fair = Decimal(str(round(max(up, 1 - up), 4)))
        ask = market.book(favoured).best_ask
        if ask is None or _common.holds(market, favoured):
            continue
        if fair - ask >= Decimal(str(p["min_edge"])) and ask <= Decimal(str(p["max_price"])):
            size = Decimal(str(p["size"]))
            decisions.append(_common.buy(market, favoured, ask, size, f"momentum-{favoured}"))
    return decisions
