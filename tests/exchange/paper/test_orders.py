"""Order semantics of the paper venue: FAK/FOK, GTD expiry, depth taken, shares to sell."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange import Book, ClobClient, OrderRejected
from exchange.eip712 import order_amounts
from exchange.paper import ManualClock
from tests.exchange.conftest import START, WINDOW
from tests.exchange.helpers import live_window, order


def _book(venue: ClobClient, token: str) -> Book:
    return venue.books([token])[token]


def test_fak_fills_what_it_can_and_kills_the_rest(venue: ClobClient) -> None:
    up = live_window(venue).up_token
    book = _book(venue, up)
    best = book.asks[0]
    result = venue.place(order("fak", up, "BUY", best.price, best.size + 1000, "FAK"))
    assert result.status == "matched" and result.taking_amount == best.size
    placed = venue.get_order(result.order_id)
    assert placed is not None and placed.status == "canceled" and placed.size_matched == best.size
    assert venue.open_orders() == []


def test_fok_fills_all_across_levels_or_nothing(venue: ClobClient) -> None:
    up = live_window(venue).up_token
    book = _book(venue, up)
    two_levels = book.asks[0].size + book.asks[1].size
    with pytest.raises(OrderRejected):
        venue.place(order("fok-1", up, "BUY", book.asks[1].price, two_levels + 1, "FOK"))
    # a market BUY signs price*size cut to cents, for shares cut to 4 decimals (as the SDK does)
    _, taker = order_amounts("BUY", book.asks[1].price, two_levels, "FOK", Decimal("0.01"))
    result = venue.place(order("fok-2", up, "BUY", book.asks[1].price, two_levels, "FOK"))
    shares = Decimal(taker) / 1_000_000
    assert result.taking_amount == shares and two_levels - Decimal("0.02") < shares <= two_levels
    second = shares - book.asks[0].size
    cost = book.asks[0].price * book.asks[0].size + book.asks[1].price * second
    assert result.making_amount == cost  # each level at its own price


def test_depth_taken_is_gone_for_the_rest_of_the_second(
    venue: ClobClient, clock: ManualClock
) -> None:
    up = live_window(venue).up_token
    best = _book(venue, up).asks[0]
    # one share more than the level: the whole level is taken despite the market-BUY rounding
    venue.place(order("first", up, "BUY", best.price, best.size + 1, "FAK"))
    with pytest.raises(OrderRejected, match="FAK"):
        venue.place(order("second", up, "BUY", best.price, "5", "FAK"))
    clock.advance(1)  # fresh depth next second (if the price still crosses)
    fresh = _book(venue, up).asks[0]
    assert venue.place(order("third", up, "BUY", fresh.price, "5", "FAK")).taking_amount == 5


def test_gtc_remainder_rests_and_gtd_expires(venue: ClobClient, clock: ManualClock) -> None:
    window = live_window(venue)
    book = _book(venue, window.up_token)
    best = book.asks[0]
    gtc = venue.place(order("gtc", window.up_token, "BUY", best.price, best.size + 50))
    assert gtc.status == "matched" and gtc.taking_amount == best.size
    resting = venue.get_order(gtc.order_id)
    assert resting is not None and resting.is_open and resting.remaining <= 50

    gtd = order("gtd", window.down_token, "BUY", "0.01", "5", "GTD", expiration=START + 3)
    placed = venue.place(gtd)
    assert placed.status == "live"
    clock.advance(2)
    still = venue.get_order(placed.order_id)
    assert still is not None and still.status == "live"
    clock.advance(1)
    expired = venue.get_order(placed.order_id)
    assert expired is not None and expired.status == "canceled"


def test_selling_needs_free_shares(venue: ClobClient) -> None:
    up = live_window(venue).up_token
    book = _book(venue, up)
    assert book.best_ask is not None and book.best_bid is not None
    venue.place(order("buy", up, "BUY", book.best_ask, "12"))
    high = book.best_ask + Decimal("0.2")
    venue.place(order("offer", up, "SELL", high, "6"))  # rests: 6 of the 12 shares offered
    with pytest.raises(OrderRejected, match="6 shares free"):
        venue.place(order("too-many", up, "SELL", high, "7"))
    assert venue.place(order("fits", up, "SELL", high, "6")).status == "live"


def test_orders_on_every_window_of_the_listing(venue: ClobClient, clock: ManualClock) -> None:
    """15m windows (60 s here) live through three 5m windows and accept orders throughout."""
    fifteen = live_window(venue, "eth", "15m")
    assert fifteen.interval_s == 3 * WINDOW
    clock.advance(2 * WINDOW)
    assert live_window(venue, "eth", "15m") == fifteen
    assert live_window(venue, "eth", "5m").start_ts == START + 2 * WINDOW
    result = venue.place(order("late", fifteen.down_token, "BUY", "0.01", "5"))
    assert result.success


def test_a_repost_finds_the_order_even_after_its_market_closed(
    venue: ClobClient, clock: ManualClock
) -> None:
    window = live_window(venue)
    gtd = order("gtd-late", window.down_token, "BUY", "0.01", "5", "GTD", expiration=START + 5)
    placed = venue.place(gtd)
    clock.advance(WINDOW)  # expired, and the window is over
    again = venue.place(gtd)
    assert again.order_id == placed.order_id and again.status == "canceled"
