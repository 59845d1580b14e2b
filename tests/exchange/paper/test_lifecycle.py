"""One window's whole life: open, books move, a taker fills, a resting order fills later,
the window resolves, and the winners are paid."""

from __future__ import annotations

from decimal import Decimal

from exchange import ClobClient, VenueFill
from exchange.paper import ManualClock
from tests.exchange.conftest import START, WINDOW, TestClient
from tests.exchange.helpers import live_window, order


def test_a_window_from_open_to_payout(
    venue: ClobClient, http: TestClient, clock: ManualClock
) -> None:
    # -- open ------------------------------------------------------------------
    window = live_window(venue)
    assert window.start_ts == START and window.end_ts == START + WINDOW and not window.closed
    up, down = window.up_token, window.down_token
    books = venue.books([up, down])
    assert books[up].best_ask is not None and books[up].best_bid is not None
    assert books[down].best_bid is not None

    # -- a marketable order fills at once, a sell takes some back ---------------
    bought = venue.place(order("buy-up", up, "BUY", books[up].best_ask, "10"))
    assert bought.status == "matched" and bought.taking_amount == 10
    sold = venue.place(order("sell-up", up, "SELL", books[up].best_bid, "5"))
    assert sold.status == "matched" and sold.making_amount == 5

    # -- two resting bids; the market must move through one of them ------------
    resting = {
        "Up": venue.place(order("rest-up", up, "BUY", books[up].best_bid, "10")).order_id,
        "Down": venue.place(order("rest-down", down, "BUY", books[down].best_bid, "10")).order_id,
    }
    assert {o.order_id for o in venue.open_orders()} == set(resting.values())
    fills, cursor = venue.fills_since(None)
    assert len(fills) == 2

    # -- time passes, second by second: books move, resting orders fill --------
    mids = set()
    while venue.server_time() < window.end_ts - 1:
        clock.advance(1)
        book = venue.books([up])[up]
        mids.add(book.mid)
        new, cursor = venue.fills_since(cursor)
        fills += new
    assert len(mids) > 3, "the book follows the reference price"
    later = [f for f in fills if f.order_id in resting.values()]
    assert later, "a resting order filled when the book crossed it"
    assert all(f.ts > START for f in later)
    assert all(f.price == _limit(venue, f.order_id) for f in later)  # makers get their price

    # -- the window ends and resolves --------------------------------------------
    assert venue.resolution(window.slug) is None
    clock.advance(1)
    resolution = venue.resolution(window.slug)
    assert resolution is not None and resolution.start_price == window.start_price
    assert resolution.end_price is not None
    up_won = Decimal(resolution.end_price) >= Decimal(window.start_price or "0")
    assert resolution.winner == ("Up" if up_won else "Down")
    assert venue.open_orders() == []  # what still rested is cancelled
    for order_id in resting.values():
        final = venue.get_order(order_id)
        assert final is not None and final.status in ("matched", "canceled")
    market = http.get(f"/markets/{window.condition_id}").json()
    assert market["closed"] is True and market["active"] is False
    winners = {t["outcome"]: t["winner"] for t in market["tokens"]}
    assert winners == {"Up": up_won, "Down": not up_won}
    assert venue.books([up, down]) == {}

    # -- payouts: every winning share paid 1, positions closed --------------------
    fills += venue.fills_since(cursor)[0]
    account = http.get("/paper/account").json()
    shares = _net_shares(fills)
    winning_shares = shares.get(window.token(resolution.winner), Decimal(0))
    spent = sum((f.price * f.size * (1 if f.side == "BUY" else -1) for f in fills), Decimal(0))
    assert Decimal(account["redeemed"]) == winning_shares
    assert Decimal(account["cash"]) == winning_shares - spent
    assert account["positions"] == {}


def _limit(venue: ClobClient, order_id: str) -> Decimal:
    found = venue.get_order(order_id)
    assert found is not None
    return found.price


def _net_shares(fills: list[VenueFill]) -> dict[str, Decimal]:
    shares: dict[str, Decimal] = {}
    for fill in fills:
        sign = 1 if fill.side == "BUY" else -1
        shares[fill.token_id] = shares.get(fill.token_id, Decimal(0)) + sign * fill.size
    return shares
