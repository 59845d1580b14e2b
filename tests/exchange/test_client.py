"""ClobClient against the paper venue, in process (TestClient) and over a real socket."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest

from exchange import ClobClient, NotFound, OrderRejected, Venue
from exchange.paper import ManualClock
from tests.exchange.conftest import START, WINDOW, TestClient
from tests.exchange.helpers import live_window, order


def test_client_is_a_venue_with_no_default_url() -> None:
    assert issubclass(ClobClient, Venue)
    base_url = inspect.signature(ClobClient).parameters["base_url"]
    assert base_url.default is inspect.Parameter.empty
    with pytest.raises(ValueError, match="explicit"):
        ClobClient("clob.polymarket.com")


def test_market_data(any_venue: ClobClient) -> None:
    assert any_venue.server_time() == START
    windows = any_venue.list_windows()
    live = [w for w in windows if not w.closed]
    # btc and eth, 5m and 15m: four live windows, all starting now
    assert sorted((w.asset, w.interval, w.interval_s) for w in live) == [
        ("btc", "15m", 3 * WINDOW),
        ("btc", "5m", WINDOW),
        ("eth", "15m", 3 * WINDOW),
        ("eth", "5m", WINDOW),
    ]
    window = live_window(any_venue)
    assert window.slug == f"btc-updown-5m-{START}"
    assert window.end_ts == START + WINDOW
    assert window.start_price is not None

    books = any_venue.books([window.up_token, window.down_token, "no-such-token"])
    assert set(books) == {window.up_token, window.down_token}
    up, down = books[window.up_token], books[window.down_token]
    assert up.best_bid is not None and up.best_ask is not None
    assert up.best_bid < up.best_ask
    assert up.bids[0].price == up.best_bid  # levels come back best-first
    assert down.best_bid == 1 - up.best_ask  # one pool of liquidity
    assert up.tick_size == Decimal("0.01") and up.min_order_size == Decimal("5")

    assert any_venue.midpoint(window.up_token) == up.mid
    assert any_venue.price(window.up_token, "BUY") == up.best_ask
    assert any_venue.price(window.up_token, "SELL") == up.best_bid
    assert any_venue.book("no-such-token") is None
    reference = any_venue.reference_price("btc")
    assert reference.asset == "btc" and reference.ts == START
    assert str(reference.price) == window.start_price


def test_orders_roundtrip(any_venue: ClobClient) -> None:
    window = live_window(any_venue)
    book = any_venue.books([window.up_token])[window.up_token]
    assert book.best_ask is not None and book.best_bid is not None

    taker = order("c-take", window.up_token, "BUY", book.best_ask, "10")
    order_id = any_venue.order_id_for(taker)
    result = any_venue.place(taker)
    assert result.success and result.order_id == order_id
    assert result.status == "matched"
    assert result.taking_amount == Decimal("10")
    assert result.making_amount == book.best_ask * 10
    assert any_venue.place(taker) == result  # a re-post is the same order

    resting = order("c-rest", window.up_token, "BUY", book.best_bid - Decimal("0.05"), "7")
    placed = any_venue.place(resting)
    assert placed.status == "live" and placed.taking_amount == 0
    [open_order] = any_venue.open_orders()
    assert open_order.order_id == placed.order_id
    assert open_order.is_open and open_order.remaining == Decimal("7")
    assert open_order.market == window.condition_id

    filled = any_venue.get_order(order_id)
    assert filled is not None and filled.status == "matched"
    assert any_venue.get_order("0x" + "ab" * 32) is None

    assert any_venue.cancel(placed.order_id) is True
    assert any_venue.cancel(placed.order_id) is False
    assert any_venue.open_orders() == []
    canceled = any_venue.get_order(placed.order_id)
    assert canceled is not None and canceled.status == "canceled"


def test_cancel_all_only_touches_open_orders(any_venue: ClobClient) -> None:
    window = live_window(any_venue)
    ids = [
        any_venue.place(order(f"c-{i}", window.down_token, "BUY", "0.05", "5")).order_id
        for i in range(3)
    ]
    assert sorted(any_venue.cancel_all()) == sorted(ids)
    assert any_venue.cancel_all() == []


def test_rejections_are_typed(any_venue: ClobClient) -> None:
    window = live_window(any_venue)
    with pytest.raises(OrderRejected, match="tick size"):
        any_venue.place(order("bad-tick", window.up_token, "BUY", "0.505"))
    with pytest.raises(OrderRejected, match="minimum order size"):
        any_venue.place(order("small", window.up_token, "BUY", "0.5", "1"))
    with pytest.raises(OrderRejected, match="FOK"):
        any_venue.place(order("fok", window.up_token, "BUY", "0.05", "10", "FOK"))
    with pytest.raises(OrderRejected, match="balance"):
        any_venue.place(order("naked", window.up_token, "SELL", "0.5", "10"))
    killed = order("fok", window.up_token, "BUY", "0.05", "10", "FOK")
    assert any_venue.get_order(any_venue.order_id_for(killed)) is None  # a killed FOK is no order


def test_fills_cursor_resumes_without_repeats(any_venue: ClobClient, clock: ManualClock) -> None:
    window = live_window(any_venue)
    assert any_venue.fills_since(None) == ([], "v1:0:")
    book = any_venue.books([window.up_token])[window.up_token]
    assert book.best_ask is not None
    first = any_venue.place(order("f-1", window.up_token, "BUY", book.best_ask, "5"))
    fills, cursor = any_venue.fills_since(None)
    assert [f.order_id for f in fills] == [first.order_id]
    assert fills[0].fill_id == f"{fills[0].fill_id.split(':')[0]}:{first.order_id}"
    # same second, another fill: only the new one comes back
    second = any_venue.place(order("f-2", window.up_token, "BUY", book.best_ask, "5"))
    more, cursor2 = any_venue.fills_since(cursor)
    assert [f.order_id for f in more] == [second.order_id]
    assert any_venue.fills_since(cursor2) == ([], cursor2)
    # later seconds too; the fill ids are stable on a replay from the start
    clock.advance(3)
    book = any_venue.books([window.up_token])[window.up_token]
    assert book.best_ask is not None
    third = any_venue.place(order("f-3", window.up_token, "BUY", book.best_ask, "5"))
    latest, _ = any_venue.fills_since(cursor2)
    assert [f.order_id for f in latest] == [third.order_id]
    replay, _ = any_venue.fills_since(None)
    assert [f.fill_id for f in replay] == [f.fill_id for f in fills + more + latest]


def test_resolution_is_none_until_the_window_ends(
    any_venue: ClobClient, clock: ManualClock
) -> None:
    window = live_window(any_venue)
    assert any_venue.resolution(window.slug) is None
    clock.advance(WINDOW)
    resolution = any_venue.resolution(window.slug)
    assert resolution is not None
    assert resolution.start_price == window.start_price
    assert resolution.end_price is not None
    expected = (
        "Up" if Decimal(resolution.end_price) >= Decimal(window.start_price or "0") else "Down"
    )
    assert resolution.winner == expected


def test_resolution_by_slug_without_listing_first(http: TestClient, clock: ManualClock) -> None:
    slug = live_window(ClobClient("http://testserver", http=http)).slug
    clock.advance(WINDOW)
    fresh = ClobClient("http://testserver", http=http)  # no slug -> condition id cache
    resolution = fresh.resolution(slug)
    assert resolution is not None and resolution.slug == slug
    with pytest.raises(NotFound):
        fresh.resolution("btc-updown-5m-12345")
