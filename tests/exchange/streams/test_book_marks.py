"""`POST /paper/books/mark`: a book change on demand, in REST books and on the market channel."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from exchange.paper.streams import BookNews
from exchange.streams import MarketChannel
from tests.exchange.helpers import live_window
from tests.exchange.streams.conftest import StreamVenue, wait_until


def test_a_marked_book_shows_the_size_at_its_best_bid_in_rest_and_on_the_stream(
    stream_venue: StreamVenue,
) -> None:
    window = live_window(stream_venue.client)
    changed: list[str] = []
    channel = MarketChannel(stream_venue.ws("/ws/market"), on_change=changed.append)
    channel.set_tokens([window.up_token, window.down_token])
    stream_venue.start(channel)
    wait_until(lambda: channel.book(window.up_token) is not None, what="first snapshot")
    before = stream_venue.client.book(window.up_token)
    assert before is not None and before.best_bid is not None
    changed.clear()

    body = {"token_id": window.up_token, "size": "123456"}
    reply = httpx.post(stream_venue.url + "/paper/books/mark", json=body).json()
    assert reply["version"] == 1 and reply["changed_at"] > 0

    after = stream_venue.client.book(window.up_token)
    assert after is not None and after.best_bid == before.best_bid
    assert [lvl.size for lvl in after.bids if lvl.price == after.best_bid] == [Decimal(123456)]

    def streamed_size() -> Decimal | None:
        view = channel.book(window.up_token)
        if view is None:
            return None
        return next((lvl.size for lvl in view.book.bids if lvl.price == after.best_bid), None)

    wait_until(lambda: streamed_size() == Decimal(123456), what="the mark on the stream")
    assert window.up_token in changed
    down = stream_venue.client.book(window.down_token)
    assert down is not None and all(lvl.size != Decimal(123456) for lvl in down.bids)


def test_book_news_wakes_every_waiter_before_its_timeout() -> None:
    async def scenario() -> None:
        news = BookNews()
        waiters = [asyncio.create_task(news.wait(3600)) for _ in range(3)]
        await asyncio.sleep(0)  # let them register
        news.changed()
        await asyncio.wait_for(asyncio.gather(*waiters), 30)  # a guard against hanging only

    asyncio.run(scenario())
