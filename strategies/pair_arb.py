"""Pair arbitrage: when ask(Up) + ask(Down) < 1 - edge, buy both outcomes;
one of them pays 1 at resolution, so the pair costs less than it returns."""

from __future__ import annotations

from decimal import Decimal

from state_store.view import Decision, View

from . import _common

PARAMS = {
    "edge": 0.02,  # required discount of the pair below 1
    "size": 5,  # shares of each outcome
}


def decide(view: View) -> list[Decision]:
    edge = Decimal(str(view.params["edge"]))
    size = Decimal(str(view.params["size"]))
    decisions: list[Decision] = []
    for market in view.markets:
        up_ask, down_ask = market.up.best_ask, market.down.best_ask
        if up_ask is None or down_ask is None:
            continue
        if up_ask + down_ask >= 1 - edge:
            continue
        if _common.holds(market, "Up") or _common.holds(market, "Down"):
            continue
        decisions.append(_common.buy(market, "Up", up_ask, size, "pair-up"))
        decisions.append(_common.buy(market, "Down", down_ask, size, "pair-down"))
    return decisions
