"""This tick's order books: the market channel first, REST `/books` for what it cannot serve.

With a market channel (`--market-ws`, `rt.feeds.market`) the runner keeps it
subscribed to the tokens of its leased live windows (`set_tokens` whenever
that set changes) and takes each book from the channel's local copy. Only a
token the channel cannot serve goes to REST, in one `POST /books` for all of
them: the stream is down (a dropped connection invalidates every book), not
connected yet, the token was just subscribed (no snapshot yet) or its book is
being resynced after a gap. While the stream is up and every book has its
snapshot the runner makes no `/book` or `/books` request.

A streamed book with no message for `stale_after_s` (`--book-stale-s`) is
`stale`: its market's `MarketView.stale` is True, strategies see it, and the
runtime refuses new entries (buy intents) there; exits (sells), cancels and
flattening still go. A stale book is not refreshed by REST: the connection is
open (a dropped one serves nothing, so REST takes over at once) but says
nothing, so the runner cannot tell a quiet book from a stream that stopped
delivering; polling REST every tick for it would turn a silent stream into
silent polling. The client's silence timeout (`silence_timeout_s`, 30 s)
closes a connection that sends nothing at all, not even `PONG`; from then
REST serves those tokens until the new connection's snapshots arrive.

Without a market channel every book comes from `POST /books` each tick, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import replace

from exchange.types import Book
from runner.runtime import Runtime
from runner.strategy_call import StrategyOutcome
from state_store.status import BookSources

log = logging.getLogger(__name__)

STREAM, REST, STALE = "stream", "rest", "stale"


def take_books(rt: Runtime, tokens: Sequence[str]) -> dict[str, Book]:
    """Every token's book for this tick (see the module doc); the sources go to `rt.books`."""
    channel = rt.feeds.market if rt.feeds is not None else None
    state = rt.books
    books: dict[str, Book] = {}
    sources: dict[str, str] = {}
    missing = list(tokens)
    if channel is not None:
        wanted = frozenset(tokens)
        if wanted != state.tokens:  # leases changed: (un)subscribe on the open connection
            channel.set_tokens(sorted(wanted))
            state.tokens = wanted
        missing = []
        for token in tokens:
            streamed = channel.book(token)
            if streamed is None:
                missing.append(token)
            else:
                books[token] = streamed.book
                sources[token] = STALE if streamed.stale else STREAM
    if missing:
        books.update(rt.venue.books(missing))
        state.rest_polls += 1
        sources.update(dict.fromkeys(missing, REST))
    state.books, state.sources = books, sources
    return books


def stale_tokens(rt: Runtime) -> frozenset[str]:
    """The tokens whose book this tick is a stale streamed one."""
    return frozenset(t for t, source in rt.books.sources.items() if source == STALE)


def without_stale_entries(
    rt: Runtime, outcomes: Sequence[StrategyOutcome], stale_markets: Collection[str]
) -> list[StrategyOutcome]:
    """The outcomes without their buy intents in markets whose book is stale (counted, logged);
    sells go on."""
    if not stale_markets:
        return list(outcomes)
    out: list[StrategyOutcome] = []
    refused = 0
    for outcome in outcomes:
        kept = tuple(
            i for i in outcome.intents if not (i.side == "BUY" and i.market in stale_markets)
        )
        refused += len(outcome.intents) - len(kept)
        out.append(replace(outcome, intents=kept) if len(kept) != len(outcome.intents) else outcome)
    if refused:
        rt.books.entries_refused += refused
        log.warning(
            "%d new entries refused: stale book in %s", refused, ", ".join(sorted(stale_markets))
        )
    return out


def status_record(rt: Runtime) -> BookSources:
    """Where this tick's books came from, for the runner's status."""
    channel = rt.feeds.market if rt.feeds is not None else None
    counted = list(rt.books.sources.values())
    connection = "" if channel is None else "connected" if channel.connected else "down"
    return BookSources(
        market_stream=connection,
        stream=counted.count(STREAM),
        rest=counted.count(REST),
        stale=counted.count(STALE),
        rest_polls=rt.books.rest_polls,
        entries_refused=rt.books.entries_refused,
        resyncs=channel.resyncs if channel is not None else 0,
    )
