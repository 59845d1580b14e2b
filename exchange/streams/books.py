"""Local order books kept from the market channel: snapshots, level changes, gaps, staleness.

One `LocalBook` per token. A `book` event replaces it; a `price_change` entry
sets one level (size 0 removes it). After a message's entries for a token
the book is checked against what the last entry says it should look like:

- the entry's `best_bid` / `best_ask` (documented on every entry) must equal
  the local best prices, when both sides report one;
- the entry's `hash`, when the venue is known to compute it with
  `book_digest` (the paper venue does; the real venue's algorithm is not
  documented, so `verify_hash` is off for it);
- a crossed book (best bid >= best ask) is never right.

A failed check marks the book `desynced`: it is not served until a new
snapshot arrives (the channel client re-subscribes the token to get one).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from exchange.types import Book, Level

Clock = Callable[[], float]


def norm(value: Decimal) -> str:
    """A canonical decimal string: no exponent, no trailing zeros ("0.50" -> "0.5")."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def book_digest(bids: Mapping[Decimal, Decimal], asks: Mapping[Decimal, Decimal]) -> str:
    """The paper venue's book hash: sha1 over the canonical levels, best first."""
    bid_text = ",".join(f"{norm(p)}={norm(s)}" for p, s in sorted(bids.items(), reverse=True))
    ask_text = ",".join(f"{norm(p)}={norm(s)}" for p, s in sorted(asks.items()))
    return hashlib.sha1(f"b:{bid_text};a:{ask_text}".encode(), usedforsecurity=False).hexdigest()


@dataclass
class LocalBook:
    token_id: str
    market: str
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal("0")
    venue_ts: float = 0.0  # venue timestamp of the last message, unix seconds
    received_at: float = 0.0  # local monotonic time of the last message
    synced: bool = False  # False until a snapshot, and again after a failed check

    def best_bid(self) -> Decimal | None:
        return max(self.bids, default=None)

    def best_ask(self) -> Decimal | None:
        return min(self.asks, default=None)

    def set_level(self, side: str, price: Decimal, size: Decimal) -> None:
        levels = self.bids if side == "BUY" else self.asks
        if size > 0:
            levels[price] = size
        else:
            levels.pop(price, None)

    def crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid >= ask

    def to_book(self) -> Book:
        return Book(
            token_id=self.token_id,
            bids=tuple(Level(p, s) for p, s in sorted(self.bids.items(), reverse=True)),
            asks=tuple(Level(p, s) for p, s in sorted(self.asks.items())),
            tick_size=self.tick_size,
            min_order_size=self.min_order_size,
            timestamp=self.venue_ts,
            market=self.market,
        )


@dataclass(frozen=True)
class StreamedBook:
    """What the runner reads: the book, and whether it can be trusted now."""

    book: Book
    stale: bool  # no message for longer than the stale limit, or the stream is down
    age_s: float  # seconds since the last message for this token
    source: str = "stream"


@dataclass(frozen=True)
class LevelChange:
    token_id: str
    side: str  # "BUY" (bid) or "SELL" (ask)
    price: Decimal
    size: Decimal
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    hash: str | None = None


class BookStore:
    """Every token's local book. Not thread-safe: the channel's event loop owns it."""

    def __init__(self, verify_hash: bool = False, clock: Clock = time.monotonic) -> None:
        self.verify_hash = verify_hash
        self.clock = clock
        self.books: dict[str, LocalBook] = {}
        self.gaps = 0  # failed checks so far

    def apply_snapshot(
        self,
        token_id: str,
        market: str,
        bids: Iterable[tuple[Decimal, Decimal]],
        asks: Iterable[tuple[Decimal, Decimal]],
        venue_ts: float,
        tick_size: Decimal | None = None,
        min_order_size: Decimal | None = None,
    ) -> None:
        old = self.books.get(token_id)
        book = LocalBook(
            token_id=token_id,
            market=market,
            bids={p: s for p, s in bids if s > 0},
            asks={p: s for p, s in asks if s > 0},
            tick_size=tick_size or (old.tick_size if old else Decimal("0.01")),
            min_order_size=min_order_size or (old.min_order_size if old else Decimal("0")),
            venue_ts=venue_ts,
            received_at=self.clock(),
            synced=True,
        )
        self.books[token_id] = book

    def apply_changes(self, changes: list[LevelChange], venue_ts: float) -> bool:
        """Apply one message's level changes for one token, then check the book against the last.

        Checked once per message, not per entry: between two entries of one
        message the book may be crossed for a moment (a bid moved up before the
        ask it now meets was removed). False when the book is (now) out of sync
        and needs a snapshot.
        """
        if not changes:
            return True
        book = self.books.get(changes[0].token_id)
        if book is None or not book.synced:
            return False
        for change in changes:
            book.set_level(change.side, change.price, change.size)
        book.venue_ts = venue_ts
        book.received_at = self.clock()
        if self._consistent(book, changes[-1]):
            return True
        book.synced = False
        self.gaps += 1
        return False

    def _consistent(self, book: LocalBook, change: LevelChange) -> bool:
        if book.crossed():
            return False
        for ours, theirs in (
            (book.best_bid(), change.best_bid),
            (book.best_ask(), change.best_ask),
        ):
            if ours is not None and theirs is not None and ours != theirs:
                return False
        return not (
            self.verify_hash and change.hash and change.hash != book_digest(book.bids, book.asks)
        )

    def set_tick_size(self, token_id: str, tick_size: Decimal) -> None:
        book = self.books.get(token_id)
        if book is not None:
            book.tick_size = tick_size

    def touch(self, token_id: str) -> None:
        """A message about the token that changes no level (last trade, best bid/ask)."""
        book = self.books.get(token_id)
        if book is not None:
            book.received_at = self.clock()

    def invalidate(self, token_ids: Iterable[str]) -> None:
        """Mark books out of sync (the connection dropped): served again after a snapshot."""
        for token_id in token_ids:
            book = self.books.get(token_id)
            if book is not None:
                book.synced = False

    def forget(self, token_ids: Iterable[str]) -> None:
        for token_id in token_ids:
            self.books.pop(token_id, None)

    def view(self, token_id: str, stale_after_s: float, connected: bool) -> StreamedBook | None:
        """The runner's view of one book; None when there is no synced book for it."""
        book = self.books.get(token_id)
        if book is None or not book.synced:
            return None
        age = max(0.0, self.clock() - book.received_at)
        return StreamedBook(book.to_book(), stale=not connected or age > stale_after_s, age_s=age)
