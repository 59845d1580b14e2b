"""What one market-channel connection of the paper venue sends, as the CLOB documents it.

A `MarketSession` remembers the book it last sent for each subscribed token
and, once per venue second (books change per second) and at once when a book is
marked (`POST /paper/books/mark`), sends:

- `book`: the full snapshot, when a token is first seen open (or re-subscribed);
- `price_change`: one message per market with the level changes since the
  last message, each entry carrying the token's best bid/ask after it and the
  `hash` of the token's book after the message (`exchange.streams.books.book_digest`);
- `last_trade_price`: for each new trade in a subscribed token;
- with `custom_feature_enabled`: `best_bid_ask` when a token's best prices
  move, `new_market` when a window opens, `market_resolved` when one settles.

`collect` is synchronous (Redis reads under the engine lock); the websocket
route calls it from a worker thread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from exchange.paper import replies
from exchange.paper.engine import PaperEngine
from exchange.paper.models import PaperWindow
from exchange.paper.stream_faults import StreamFaults
from exchange.streams.books import book_digest
from exchange.types import Outcome

Levels = dict[Decimal, Decimal]
Message = dict[str, Any]


def ms(ts: float) -> str:
    return str(int(ts * 1000))


def levels_of(rows: Iterable[dict[str, str]]) -> Levels:
    return {Decimal(r["price"]): Decimal(r["size"]) for r in rows}


def level_changes(old: Levels, new: Levels) -> list[tuple[Decimal, Decimal]]:
    """(price, new size) for every level that differs; size 0 for a removed level."""
    prices = sorted(set(old) | set(new))
    return [(p, new.get(p, Decimal(0))) for p in prices if old.get(p) != new.get(p)]


class MarketSession:
    def __init__(
        self, engine: PaperEngine, faults: StreamFaults, tokens: Iterable[str], custom: bool
    ) -> None:
        self.engine = engine
        self.faults = faults
        self.custom = custom
        self.tokens: dict[str, None] = dict.fromkeys(tokens)
        self.sent: dict[str, tuple[Levels, Levels]] = {}  # token -> (bids, asks) last sent
        self.markets: dict[str, str] = {}  # token -> condition id, once seen
        self.tick: dict[str, str] = {}
        self.trades_seen: set[str] = set()
        self.listed: set[str] | None = None
        self.ended: set[str] = set()  # tokens whose window ended, resolution not yet sent
        self.refs: dict[str, tuple[str, Outcome]] = {}  # token -> (slug, outcome), once known
        self.step: int | None = None
        self.fresh = True  # tokens subscribed since the last collect
        self.version = -1  # the books' version (`BookMaker.mark`) at the last collect

    # -- subscriptions -------------------------------------------------------
    def subscribe(self, tokens: Iterable[str]) -> None:
        for token in tokens:
            self.tokens[token] = None
            self.sent.pop(token, None)  # a (re-)subscribed token gets a fresh snapshot
        self.fresh = True

    def unsubscribe(self, tokens: Iterable[str]) -> None:
        for token in tokens:
            self.tokens.pop(token, None)
            self.sent.pop(token, None)

    def due(self, now: float) -> bool:
        """True when there may be news: a new venue second, tokens just subscribed, or a
        book marked since the last collect."""
        return (
            self.fresh or math.floor(now) != self.step or self.engine.books.version != self.version
        )

    # -- collecting ----------------------------------------------------------
    def collect(self) -> list[Message]:
        engine = self.engine
        with engine.lock:  # Redis reads only; the books are computed outside the lock
            now = engine.advance()
            self.step = math.floor(now)
            self.fresh = False
            self.version = self.engine.books.version
            messages = self._custom_market_news(now) if self.custom else []
            windows = self._windows(list(self.tokens))
            trades = self._last_trades(now)
        changes: dict[str, list[Message]] = {}
        after: list[Message] = []  # best_bid_ask follows the price changes it sums up
        for token in list(self.tokens):
            found = windows.get(token)
            if found is None or not found[0].is_open(now):
                messages.extend(self._closed(token, found[0] if found else None))
            else:
                messages.extend(self._token_news(token, *found, now, changes, after))
        after.extend(trades)
        for market, entries in changes.items():
            if self.faults.take_skip():
                continue
            messages.append(
                {
                    "event_type": "price_change",
                    "market": market,
                    "price_changes": entries,
                    "timestamp": ms(now),
                }
            )
        return messages + after

    def _windows(self, tokens: list[str]) -> dict[str, tuple[PaperWindow, Outcome]]:
        """Each token's window and outcome: refs cached once known, windows in one pipeline."""
        store = self.engine.store
        unknown = [t for t in tokens if t not in self.refs]
        if unknown:
            raw = cast(list[str | None], store.redis.hmget(store.keys.tokens, unknown))
            for token, ref in zip(unknown, raw, strict=True):
                if ref and "|" in ref:
                    slug, outcome = ref.rsplit("|", 1)
                    self.refs[token] = (slug, "Up" if outcome == "Up" else "Down")
        known = [t for t in tokens if t in self.refs]
        slugs = sorted({self.refs[t][0] for t in known})
        by_slug = {w.slug: w for w in store.windows(slugs)}
        return {
            t: (by_slug[self.refs[t][0]], self.refs[t][1])
            for t in known
            if self.refs[t][0] in by_slug
        }

    def _token_news(
        self,
        token: str,
        window: PaperWindow,
        outcome: Outcome,
        now: float,
        changes: dict[str, list[Message]],
        after: list[Message],
    ) -> list[Message]:
        book = self.engine.books.book(window, outcome, math.floor(now))
        snapshot = replies.book_json(book, self.engine.config, now)
        bids, asks = levels_of(snapshot["bids"]), levels_of(snapshot["asks"])
        self.markets[token] = window.condition_id
        previous = self.sent.get(token)
        self.sent[token] = (bids, asks)
        out: list[Message] = []
        if previous is None:
            snapshot["hash"] = book_digest(bids, asks)
            out.append({"event_type": "book", **snapshot})
        else:
            entries = self._entries(token, previous, (bids, asks))
            if entries:
                changes.setdefault(window.condition_id, []).extend(entries)
            if self.custom and _best(previous) != _best((bids, asks)):
                after.append(self._best_bid_ask(token, window, bids, asks, now))
        tick = snapshot["tick_size"]
        if self.tick.get(token, tick) != tick:
            out.append(_tick_change(token, window, self.tick[token], tick, now))
        self.tick[token] = tick
        return out

    def _entries(
        self, token: str, old: tuple[Levels, Levels], new: tuple[Levels, Levels]
    ) -> list[Message]:
        bids, asks = dict(old[0]), dict(old[1])
        digest = book_digest(*new)  # every entry carries the hash of the book after the message
        entries = []
        for side, levels, target in (("BUY", bids, new[0]), ("SELL", asks, new[1])):
            for price, size in level_changes(levels, target):
                if size > 0:
                    levels[price] = size
                else:
                    levels.pop(price, None)
                entries.append(
                    {
                        "asset_id": token,
                        "price": str(price),
                        "size": str(size),
                        "side": side,
                        "hash": digest,
                        "best_bid": str(max(bids)) if bids else "0",
                        "best_ask": str(min(asks)) if asks else "1",
                    }
                )
        return entries

    def _closed(self, token: str, window: PaperWindow | None) -> list[Message]:
        """A token whose window is not open (not yet, or over): resolution news once, if asked."""
        if self.sent.pop(token, None) is not None and self.custom:
            self.ended.add(token)
        if token not in self.ended:
            return []
        if window is None or not window.closed:
            return []
        self.ended.discard(token)
        return [_resolved(window)]

    def _best_bid_ask(
        self, token: str, window: PaperWindow, bids: Levels, asks: Levels, now: float
    ) -> Message:
        bid, ask = (max(bids) if bids else None), (min(asks) if asks else None)
        return {
            "event_type": "best_bid_ask",
            "market": window.condition_id,
            "asset_id": token,
            "best_bid": str(bid) if bid is not None else "0",
            "best_ask": str(ask) if ask is not None else "1",
            "spread": str(ask - bid) if bid is not None and ask is not None else "1",
            "timestamp": ms(now),
        }

    def _custom_market_news(self, now: float) -> list[Message]:
        slugs = set(self.engine.schedule.listed_slugs(now))
        first = self.listed is None
        new = set() if self.listed is None else slugs - self.listed
        self.listed = slugs
        if first or not new:
            return []
        return [_new_market(w, now) for w in self.engine.store.windows(sorted(new))]

    def _last_trades(self, now: float) -> list[Message]:
        store = self.engine.store
        since = math.floor(now) - 5
        out = []
        for owner in store.owners():
            ids = [t for t in store.owner_trade_ids(owner, since) if t not in self.trades_seen]
            for raw in store.trades_json(ids):
                trade = json.loads(raw)
                self.trades_seen.add(trade["id"])
                if trade["asset_id"] in self.tokens:
                    out.append(_last_trade(trade))
        return out


def _best(book: tuple[Levels, Levels]) -> tuple[Decimal | None, Decimal | None]:
    return max(book[0], default=None), min(book[1], default=None)


def _tick_change(token: str, window: PaperWindow, old: str, new: str, now: float) -> Message:
    return {
        "event_type": "tick_size_change",
        "market": window.condition_id,
        "asset_id": token,
        "old_tick_size": old,
        "new_tick_size": new,
        "timestamp": ms(now),
    }


def _last_trade(trade: dict[str, Any]) -> Message:
    return {
        "event_type": "last_trade_price",
        "market": trade["market"],
        "asset_id": trade["asset_id"],
        "price": trade["price"],
        "size": trade["size"],
        "side": trade["side"],
        "fee_rate_bps": trade.get("fee_rate_bps", "0"),
        "transaction_hash": trade.get("transaction_hash", ""),
        "timestamp": ms(float(trade["match_time"])),
    }


def _new_market(window: PaperWindow, now: float) -> Message:
    return {
        "event_type": "new_market",
        "id": window.condition_id,
        "market": window.condition_id,
        "condition_id": window.condition_id,
        "slug": window.slug,
        "question": f"{window.asset.upper()} Up or Down ({window.interval})",
        "assets_ids": [window.up_token, window.down_token],
        "clob_token_ids": [window.up_token, window.down_token],
        "outcomes": ["Up", "Down"],
        "active": True,
        "timestamp": ms(now),
    }


def _resolved(window: PaperWindow) -> Message:
    winner = window.token(window.winner) if window.winner else None
    return {
        "event_type": "market_resolved",
        "id": window.condition_id,
        "market": window.condition_id,
        "assets_ids": [window.up_token, window.down_token],
        "winning_asset_id": winner,
        "winning_outcome": window.winner,
        "timestamp": ms(window.end_ts),
    }
