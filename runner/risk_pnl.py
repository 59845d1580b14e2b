"""A UTC day's PnL per scope (the bot, each strategy), realized plus marked, for the loss limit.

A market window's PnL counts on the UTC day its window ends. It is computed from the
orders of the window (their filled shares at their limit price: a taker fill at a
better price counts at the limit, which overstates a loss, never hides one; fees are
left out), so a strategy's share of the bot's PnL is known without a per-strategy
position. Shares still held are marked: at 1 or 0 once the window is settled, at the
mid of the book this runner read this tick, else at their average cost (another
replica's market, or a closed window not settled yet: no gain or loss yet).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import redis

from exchange.types import Book
from state_store.keys import Keys
from state_store.models import Window
from state_store.risk import BOT

DAY_S = 86_400
KEEP_S = 2 * DAY_S  # windows tracked for the daily loss (older ones are trimmed)
ZERO = Decimal(0)


@dataclass
class Leg:
    """Buys and sells of one outcome by one scope in one window."""

    bought: Decimal = ZERO
    cost: Decimal = ZERO
    sold: Decimal = ZERO
    proceeds: Decimal = ZERO

    def pnl(self, mark: Decimal | None) -> Decimal:
        held = self.bought - self.sold
        if mark is None:  # no price: held shares at their average cost
            mark = self.cost / self.bought if self.bought else ZERO
        return self.proceeds - self.cost + held * mark


#: scope -> outcome -> Leg
Legs = dict[str, dict[str, Leg]]


@dataclass
class PnlCache:
    """Legs of each window, kept while its position (fill count, cash) is unchanged."""

    legs: dict[str, tuple[tuple[str, str], Legs]] = field(default_factory=dict)


def day_start(now: float) -> float:
    return now - now % DAY_S


def day_name(now: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(now))


def track(client: redis.Redis, keys: Keys, windows: Iterable[Window], now: float) -> None:
    """Remember these windows' ends (for the day's PnL); forget those ended two days ago."""
    ends = {w.market: w.end_ts for w in windows}
    pipe = client.pipeline(transaction=False)
    if ends:
        pipe.zadd(keys.risk_windows, ends)
    pipe.zremrangebyscore(keys.risk_windows, "-inf", now - KEEP_S)
    pipe.execute()


def legs_of(orders: Iterable[Mapping[str, str]]) -> Legs:
    legs: Legs = {}
    for o in orders:
        filled = Decimal(o.get("filled") or "0")
        if not filled:
            continue
        price = Decimal(o.get("price") or "0")
        for scope in (BOT, o.get("strategy") or ""):
            leg = legs.setdefault(scope, {}).setdefault(o.get("outcome") or "", Leg())
            if o.get("side") == "BUY":
                leg.bought += filled
                leg.cost += filled * price
            else:
                leg.sold += filled
                leg.proceeds += filled * price
    return legs


def mid(book: Book | None) -> Decimal | None:
    if book is None or book.best_bid is None or book.best_ask is None:
        return None
    return (book.best_bid + book.best_ask) / 2


def marks_of(window: Mapping[str, str], books: Mapping[str, Book]) -> dict[str, Decimal | None]:
    winner = window.get("winner") or ""
    if window.get("status") == "settled" and winner:
        return {o: Decimal(1 if o == winner else 0) for o in ("Up", "Down")}
    return {
        "Up": mid(books.get(window.get("up_token") or "")),
        "Down": mid(books.get(window.get("down_token") or "")),
    }


WINDOW_FIELDS = ("status", "winner", "up_token", "down_token")


def day_pnl(
    client: redis.Redis, keys: Keys, books: Mapping[str, Book], now: float, cache: PnlCache
) -> dict[str, Decimal]:
    """Scope -> PnL of the UTC day of `now` (the bot under `bot`, each strategy by name)."""
    markets = cast(list[str], client.zrangebyscore(keys.risk_windows, day_start(now), "+inf"))
    if not markets:
        return {}
    pipe = client.pipeline(transaction=False)
    for m in markets:
        pipe.hmget(keys.position(m), "fill_count", "cash")
        pipe.hmget(keys.window(m), *WINDOW_FIELDS)
    rows: list[Any] = pipe.execute()
    for gone in set(cache.legs) - set(markets):
        del cache.legs[gone]
    totals: dict[str, Decimal] = {}
    for i, market in enumerate(markets):
        signature = (str(rows[2 * i][0] or "0"), str(rows[2 * i][1] or "0"))
        if signature[0] == "0":
            continue  # no fill in this window
        legs = window_legs(client, keys, market, signature, cache)
        marks = marks_of(dict(zip(WINDOW_FIELDS, rows[2 * i + 1], strict=True)), books)
        for scope, outcomes in legs.items():
            pnl = sum((leg.pnl(marks.get(o)) for o, leg in outcomes.items()), ZERO)
            totals[scope] = totals.get(scope, ZERO) + pnl
    return totals


def window_legs(
    client: redis.Redis, keys: Keys, market: str, signature: tuple[str, str], cache: PnlCache
) -> Legs:
    cached = cache.legs.get(market)
    if cached is not None and cached[0] == signature:
        return cached[1]
    coids = cast(set[str], client.smembers(keys.market_orders(market)))
    pipe = client.pipeline(transaction=False)
    for coid in coids:
        pipe.hgetall(keys.order(coid))
    legs = legs_of(cast(list[dict[str, str]], pipe.execute()))
    cache.legs[market] = (signature, legs)
    return legs
