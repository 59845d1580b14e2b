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
