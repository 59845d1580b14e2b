"""Strategy files the runner tests write into their strategies folder."""

ALWAYS_BUY = """
from decimal import Decimal

from state_store.models import Intent

PARAMS = {"size": 5, "tag": "v1"}


def decide(view):
    out = []
    for m in view.markets:
        ask = m.up.best_ask
        if ask is None or ask >= Decimal("0.99"):
            continue
        key = "buy-" + str(view.params["tag"])
        out.append(Intent(key, m.market, "Up", "BUY", ask, Decimal(view.params["size"]), "FAK"))
    return out
"""

RAISES = """
PARAMS = {"size": 5}


def decide(view):
    raise RuntimeError("boom")
"""


def always_buy(tag: str) -> str:
    return ALWAYS_BUY.replace('"tag": "v1"', f'"tag": "{tag}"')


#: rests `orders` GTC buys per market at 0.01, below the paper venue's lowest ask (0.02):
#: they never fill
RESTING_BUYS = """
from decimal import Decimal

from state_store.models import Intent

PARAMS = {"orders": 3, "size": 5, "price": "0.01"}


def decide(view):
    p = view.params
    out = []
    for m in view.markets:
        for i in range(p["orders"]):
            price, size = Decimal(p["price"]), Decimal(p["size"])
            out.append(Intent("rest-" + str(i), m.market, "Up", "BUY", price, size, "GTC"))
    return out
"""

#: buys at the ask (asking again every tick: one order per window, by its key), sells what
#: it holds at the bid, in every market: a certain loss
ROUND_TRIPS = """
from decimal import Decimal

from state_store.models import Intent


def decide(view):
    out = []
    for m in view.markets:
        bid, ask, held = m.up.best_bid, m.up.best_ask, m.position.up_shares
        if ask is not None and ask < Decimal("0.99"):
            out.append(Intent("in", m.market, "Up", "BUY", ask, Decimal(5), "FAK"))
        if held > 0 and bid is not None:
            out.append(Intent("out", m.market, "Up", "SELL", bid, held, "FAK"))
    return out
"""
