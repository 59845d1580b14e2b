"""Building the read-only views strategies get from one tick's snapshot and books."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from exchange.types import Book
from state_store.models import MarketSnapshot, Window
from state_store.view import BookTop, MarketView, View


def book_top(book: Book | None) -> BookTop:
    if book is None:
        return BookTop()
    bid, ask = book.best_bid, book.best_ask
    bid_size = sum((lvl.size for lvl in book.bids if lvl.price == bid), Decimal(0))
    ask_size = sum((lvl.size for lvl in book.asks if lvl.price == ask), Decimal(0))
    return BookTop(bid, ask, bid_size, ask_size)


def market_view(
    snap: MarketSnapshot,
    books: Mapping[str, Book],
    refs: Mapping[str, Decimal],
    now: float,
    stale: Collection[str] = (),
) -> MarketView | None:
    """The market's view; `stale`: tokens whose book is stale (the market is, if either is)."""
    window = snap.window
    if window is None:
        return None
    up, down = books.get(window.up_token), books.get(window.down_token)
    return MarketView(
        market=window.market,
        asset=window.asset,
        interval=window.interval,
        start_ts=window.start_ts,
        end_ts=window.end_ts,
        now=now,
        up=book_top(up),
        down=book_top(down),
        position=snap.position,
        open_orders=snap.open_orders,
        stale=window.up_token in stale or window.down_token in stale,
        start_price=Decimal(window.start_price) if window.start_price else None,
        reference_price=refs.get(window.asset),
        tick_size=tick_size(window, up or down),
        min_order_size=min_order_size(window, up or down),
        fee_rate=window.fee_rate if window.fee_rate is not None else Decimal(0),
        fee_exponent=window.fee_exponent if window.fee_exponent is not None else Decimal(1),
        neg_risk=window.neg_risk,
    )


def tick_size(window: Window, book: Book | None) -> Decimal:
    """The book's tick (it follows the venue's tick_size_change), else the window's terms."""
    if book is not None:
        return book.tick_size
    return window.tick_size if window.tick_size is not None else Decimal("0.01")


def min_order_size(window: Window, book: Book | None) -> Decimal:
    """The window's terms (Gamma's orderMinSize), else the book's, else 5."""
    if window.min_order_size:
        return window.min_order_size
    if book is not None and book.min_order_size:
        return book.min_order_size
    return Decimal("5")


def strategy_view(
    name: str,
    tick: int,
    now: float,
    markets: tuple[MarketView, ...],
    params: Mapping[str, Any],
    memory: Mapping[str, str],
) -> View:
    return View(
        strategy=name,
        now=now,
        tick=tick,
        markets=markets,
        params=MappingProxyType(dict(params)),
        memory=MappingProxyType(dict(memory)),
    )
