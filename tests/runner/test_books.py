"""runner.books in-process: which token goes to REST, when the channel is resubscribed, which
intents a stale book stops (the socket-level behaviour is in test_market_stream.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from exchange.streams.books import StreamedBook
from exchange.types import Book, Level
from runner import books as bk
from runner.runtime import BookFeedState
from runner.strategy_call import StrategyOutcome
from state_store.models import Intent


def book(token: str, bid: str = "0.4") -> Book:
    return Book(token, (Level(Decimal(bid), Decimal(10)),), (), Decimal("0.01"), Decimal(5), 0.0)


@dataclass
class FakeChannel:
    served: dict[str, StreamedBook | None] = field(default_factory=dict)
    subscriptions: list[list[str]] = field(default_factory=list)
    connected: bool = True
    resyncs: int = 0

    def set_tokens(self, tokens: Iterable[str]) -> None:
        self.subscriptions.append(list(tokens))

    def book(self, token: str) -> StreamedBook | None:
        return self.served.get(token)


@dataclass
class FakeVenue:
    asked: list[list[str]] = field(default_factory=list)

    def books(self, tokens: Iterable[str]) -> dict[str, Book]:
        wanted = list(tokens)
        self.asked.append(wanted)
        return {t: book(t, "0.3") for t in wanted}


def runtime(channel: FakeChannel | None) -> Any:
    feeds = SimpleNamespace(market=channel) if channel is not None else None
    return SimpleNamespace(feeds=feeds, venue=FakeVenue(), books=BookFeedState())


def test_streamed_books_are_used_and_only_the_rest_goes_to_rest() -> None:
    channel = FakeChannel()
    channel.served = {
        "a": StreamedBook(book("a"), stale=False, age_s=0.1),
        "b": StreamedBook(book("b"), stale=True, age_s=9.0),
        "c": None,  # no snapshot yet (or the stream is down, or resyncing)
    }
    rt = runtime(channel)
    got = bk.take_books(rt, ["a", "b", "c"])
    assert rt.venue.asked == [["c"]]  # one request, for the token the stream cannot serve
    assert got["a"].best_bid == got["b"].best_bid == Decimal("0.4")
    assert got["c"].best_bid == Decimal("0.3")
    assert rt.books.sources == {"a": "stream", "b": "stale", "c": "rest"}
    assert bk.stale_tokens(rt) == {"b"}
    record = bk.status_record(rt)
    assert (record.stream, record.rest, record.stale, record.rest_polls) == (1, 1, 1, 1)
    assert record.market_stream == "connected"


def test_the_channel_follows_the_tokens_and_a_full_stream_makes_no_request() -> None:
    channel = FakeChannel()
    channel.served = {t: StreamedBook(book(t), stale=False, age_s=0.0) for t in "abcd"}
    rt = runtime(channel)
    bk.take_books(rt, ["a", "b"])
    bk.take_books(rt, ["b", "a"])  # the same set: no new subscription
    bk.take_books(rt, ["c", "d"])  # leases changed
    assert channel.subscriptions == [["a", "b"], ["c", "d"]]
    assert rt.venue.asked == [] and rt.books.rest_polls == 0


def test_without_a_channel_every_book_is_fetched() -> None:
    rt = runtime(None)
    bk.take_books(rt, ["a", "b"])
    assert rt.venue.asked == [["a", "b"]]
    assert set(rt.books.sources.values()) == {"rest"}
    assert bk.status_record(rt).market_stream == ""
    bk.take_books(rt, [])
    assert len(rt.venue.asked) == 1  # nothing leased: no request


def test_a_stale_book_stops_buys_in_its_market_not_sells_nor_other_markets() -> None:
    def intent(key: str, market: str, side: str) -> Intent:
        return Intent(key, market, "Up", side, Decimal("0.5"), Decimal(5))  # type: ignore[arg-type]

    rt = runtime(None)
    outcomes = [
        StrategyOutcome("s1", (intent("1", "m1", "BUY"), intent("2", "m1", "SELL"))),
        StrategyOutcome("s2", (intent("3", "m2", "BUY"),)),
    ]
    kept = bk.without_stale_entries(rt, outcomes, {"m1"})
    assert [i.key for o in kept for i in o.intents] == ["2", "3"]
    assert rt.books.entries_refused == 1
    assert bk.without_stale_entries(rt, outcomes, set()) == outcomes
