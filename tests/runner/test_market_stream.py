"""A runner taking its books from the market channel of a paper venue on a loopback socket.

Counted at the venue (`GET /paper/stats`): no `/book` or `/books` request while
the stream is up; REST again while it is down. A silent stream makes the books
stale: strategies see the flag, no entry is placed on them, and trading
resumes once the stream resyncs. A missed `price_change` resyncs the book from
a fresh snapshot on the same connection. Across all of it every venue fill
lands in Redis once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from exchange.types import Book
from runner.tick import run_tick
from tests.runner.stream_rig import Streamed, stream_rig

BOOK_POLLS = ("GET /book", "POST /books")
#: buys Up at the ask in every market, a new order each tick, and remembers what it saw
STALE_AWARE = """
from decimal import Decimal

from state_store.models import Intent
from state_store.view import Remember


def decide(view):
    out = [Remember({m.market: "stale" if m.stale else "fresh" for m in view.markets})]
    for m in view.markets:
        ask = m.up.best_ask
        if ask is None or ask >= Decimal("0.99"):
            continue
        out.append(Intent(f"t{view.tick}", m.market, "Up", "BUY", ask, Decimal(5), "FAK"))
    return out
"""
LONG_WINDOWS = {"window_seconds": 1800}  # a window opening mid-test is rare (stretches retry)


@pytest.fixture(params=["paper"])
def streamed(
    request: pytest.FixtureRequest, tmp_path: Path, real_redis: redis.Redis, redis_url: str,
    strategies_dir: Path,
) -> Iterator[Callable[..., Streamed]]:  # fmt: skip
    with stream_rig(request.param, tmp_path, real_redis, redis_url, strategies_dir) as make:
        yield make


def sources(s: Streamed) -> list[str]:
    return list(s.rt.books.sources.values())


def all_streamed(s: Streamed) -> bool:
    found = sources(s)
    return bool(found) and set(found) == {"stream"}


def all_stale(s: Streamed) -> bool:
    found = sources(s)
    return bool(found) and set(found) == {"stale"}


def book_polls(s: Streamed) -> int:
    return sum(s.counts.get(route) for route in BOOK_POLLS)


def orders_placed(s: Streamed) -> int:
    return s.counts.get("POST /order") + s.counts.get("POST /orders")


def status_of(s: Streamed) -> dict[str, Any]:
    section: dict[str, Any] = json.loads(s.rt.settings.status_file.read_text())["runners"]["r1"]
    return section


def steady_stretch(s: Streamed, ticks: int = 12) -> dict[str, int]:
    """Venue request counts over `ticks` ticks with every book streamed and no window opening
    or closing meanwhile (a new window's first tick has no snapshot yet: tried again)."""
    for _ in range(3):
        s.tick_until(lambda: all_streamed(s), "every book from the stream")
        tokens = set(s.rt.books.sources)
        s.counts.reset()
        for _ in range(ticks):
            run_tick(s.rt)
            time.sleep(0.05)
        if set(s.rt.books.sources) == tokens:
            return s.counts.snapshot()
    raise AssertionError("the leased windows changed in every stretch")


def seen(s: Streamed) -> set[str]:
    """What the strategy remembered of its markets' stale flags at the last tick."""
    memory: dict[str, str] = s.rt.client.hgetall(s.rt.store.keys.memory("buyer"))  # type: ignore[assignment]
    return {memory[m] for m in s.rt.leases}


def levels(book: Book) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    return {lvl.price: lvl.size for lvl in book.bids}, {lvl.price: lvl.size for lvl in book.asks}


def books_equal_the_venues(s: Streamed) -> bool:
    """The runner's books of this tick, all from the stream, equal the venue's REST books."""
    if not all_streamed(s):
        return False
    ours = s.rt.books.books
    theirs = s.venue.books(list(ours))
    return all(levels(ours[t]) == levels(theirs[t]) for t in ours)


def every_fill_once(s: Streamed) -> None:
    """Pause, wait for the venue's fills to be in Redis, then compare: none lost, none twice."""
    s.pause()

    def complete() -> bool:
        fills = s.venue_fills()
        return all(s.rt.store.position(m).up_shares == size for m, size in fills.items())

    s.tick_until(complete, "every venue fill in Redis")
    for _ in range(3):
        run_tick(s.rt)
    fills = s.venue_fills()
    assert fills, "nothing traded"
    for market, size in fills.items():
        assert s.rt.store.position(market).up_shares == size  # nothing lost, nothing twice
    recorded = list(s.rt.client.scan_iter(s.rt.store.keys.fill("*")))
    venue, _ = s.venue.fills_since(None)
    assert len(recorded) == len(venue)  # each fill recorded once


@pytest.mark.parametrize("streamed", ["paper", "live"], indirect=True)
def test_steady_ticks_poll_no_book_and_status_says_stream(
    streamed: Callable[..., Streamed],
) -> None:
    s = streamed(STALE_AWARE, market=True, venue=LONG_WINDOWS)
    s.tick_until(s.caught_up, "user channel connected")
    counts = steady_stretch(s)
    assert not any(counts.get(route) for route in BOOK_POLLS), counts  # zero in steady state
    assert not counts.get("GET /data/trades"), counts
    assert counts.get("POST /order", 0) + counts.get("POST /orders", 0) > 0, counts  # it trades
    books = status_of(s)["books"]
    assert books["market_stream"] == "connected"
    assert books["stream"] == len(s.rt.books.sources) > 0
    assert books["rest"] == books["stale"] == books["entries_refused"] == 0
    assert books["rest_polls"] >= 1  # the first tick, before the snapshots
    assert seen(s) == {"fresh"}


def test_stream_down_falls_back_to_rest_and_trades_then_back_to_zero_polls(
    streamed: Callable[..., Streamed],
) -> None:
    s = streamed(STALE_AWARE, market=True, venue=LONG_WINDOWS)
    s.tick_until(lambda: all_streamed(s) and s.caught_up(), "streams up")
    market = s.rt.feeds.market if s.rt.feeds is not None else None
    assert market is not None
    connects, rest_ticks = market.connects, s.rt.books.rest_polls
    s.counts.reset()
    down_until = time.monotonic() + 1.5
    while time.monotonic() < down_until:  # down, up, down...: the runner ticks meanwhile
        s.faults.drop()
        run_tick(s.rt)
        time.sleep(0.02)
    assert market.connects > connects
    assert s.rt.books.rest_polls > rest_ticks and book_polls(s) > 0  # REST while down
    assert orders_placed(s) > 0  # and it kept trading
    counts = steady_stretch(s)  # the stream is back: no poll again
    assert not any(counts.get(route) for route in BOOK_POLLS), counts
    assert counts.get("POST /order", 0) + counts.get("POST /orders", 0) > 0, counts
    every_fill_once(s)


def test_silent_stream_makes_books_stale_no_entry_then_resyncs(
    streamed: Callable[..., Streamed],
) -> None:
    """The connection stays open (silence timeout 30 s) and says nothing: after
    `book_stale_s` every book is stale, the strategy sees it, its buys are refused; when
    messages resume the books are fresh and equal to the venue's again (healed by the new
    changes, or re-requested where those disagree with the stale copy) and trading goes
    on."""
    s = streamed(STALE_AWARE, market=True, book_stale_s=0.5, venue=LONG_WINDOWS)
    s.rt.user_stream.trade_grace_s = 1.0  # trades of ours the silent user channel never sent
    s.tick_until(lambda: all_streamed(s) and s.caught_up(), "streams up")
    market = s.rt.feeds.market if s.rt.feeds is not None else None
    assert market is not None
    connects = market.connects
    s.faults.silent = True
    s.tick_until(lambda: all_stale(s), "every book stale")
    created, refused = s.rt.counters.orders_created, s.rt.books.entries_refused
    s.counts.reset()
    for _ in range(8):
        run_tick(s.rt)
        time.sleep(0.05)
    assert all_stale(s)
    assert s.rt.counters.orders_created == created and orders_placed(s) == 0  # no entry
    assert s.rt.books.entries_refused > refused  # the strategy's buys, refused
    assert book_polls(s) == 0  # a stale book is not fetched over REST
    assert seen(s) == {"stale"}  # the strategy saw the flag
    books = status_of(s)["books"]
    assert books["stale"] == len(s.rt.books.sources) and books["stream"] == books["rest"] == 0
    assert books["entries_refused"] == s.rt.books.entries_refused
    s.faults.silent = False
    s.tick_until(lambda: books_equal_the_venues(s), "books fresh and right after the silence")
    assert market.connects == connects  # the same connection all along
    s.tick_until(lambda: s.rt.counters.orders_created > created, "entries again")
    every_fill_once(s)


def test_missed_price_changes_leave_the_books_equal_to_the_venues(
    streamed: Callable[..., Streamed],
) -> None:
    """Messages the venue never sends (the fault switch's `skip`): the paper venue re-draws
    every level's size each second, so the next message overwrites what a missed one
    changed and the book heals by itself, or a level the missed one removed is left over
    and the next message's hash disagrees (resync). Either way the books end equal."""
    s = streamed(STALE_AWARE, market=True, venue=LONG_WINDOWS)
    s.tick_until(lambda: all_streamed(s) and s.caught_up(), "streams up")
    s.faults.skip(8)  # two venue seconds of price_change messages (4 markets) never sent
    s.tick_until(lambda: s.faults.skipped == 8, "the messages skipped")
    s.tick_until(lambda: books_equal_the_venues(s), "every book equal to the venue's")
    every_fill_once(s)


def test_a_gap_left_in_a_book_is_resynced_from_a_fresh_snapshot(
    streamed: Callable[..., Streamed],
) -> None:
    """A missed removal the next messages do not overwrite (a level the venue no longer has
    stays in the local book): the next change's hash disagrees, the token is re-subscribed on
    the same connection (the book is not served until then: REST would stand in) and the new
    snapshot equals the venue's."""
    s = streamed(STALE_AWARE, market=True, venue=LONG_WINDOWS)
    s.tick_until(lambda: all_streamed(s) and s.caught_up(), "streams up")
    market = s.rt.feeds.market if s.rt.feeds is not None else None
    assert market is not None
    connects, token = market.connects, sorted(s.rt.books.sources)[0]
    phantom = Decimal("0.001")  # below every level the paper venue quotes
    with market._lock:  # as the stream thread would leave it after missing the removal
        market.store.books[token].bids[phantom] = Decimal(7)
    s.tick_until(lambda: market.resyncs >= 1, "the gap noticed, the book re-requested")
    assert market.status().gaps >= 1
    s.tick_until(lambda: books_equal_the_venues(s), "every book equal to the venue's")
    assert phantom not in levels(s.rt.books.books[token])[0]
    assert market.connects == connects  # resynced by re-subscribing, not by reconnecting
    assert status_of(s)["books"]["resyncs"] == market.resyncs
    every_fill_once(s)


def test_without_a_market_channel_books_come_from_rest(
    streamed: Callable[..., Streamed],
) -> None:
    s = streamed(STALE_AWARE, user=False)
    s.tick_until(lambda: bool(sources(s)), "books")
    assert set(sources(s)) == {"rest"}
    s.counts.reset()
    run_tick(s.rt)
    assert s.counts.get("POST /books") == 1
    assert status_of(s)["books"]["market_stream"] == ""
