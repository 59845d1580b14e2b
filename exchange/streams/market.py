"""The CLOB market channel client: one connection, local books for a changing set of tokens.

Messages are parsed with polymarket-client's own models (`parse_market_event`),
so what the paper venue sends is checked against what the SDK accepts. The
book of a token is applied from `book` snapshots and `price_change` entries
(`BookStore`); when an entry does not agree with the local book (a missed
message), the token is re-subscribed (`unsubscribe` + `subscribe`), which
makes the venue send a fresh snapshot. On reconnect every book waits for its
new snapshot. A book with no message for `stale_after_s` is served `stale`.

Thread use: the channel runs on the stream thread's event loop; `set_tokens`,
`book` and `status` are called from the runner's thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from polymarket.models.clob.market_events import (
    MarketBookEvent,
    MarketPriceChangeEvent,
    MarketTickSizeChangeEvent,
    parse_market_event,
)
from pydantic import ValidationError

from exchange.streams.books import BookStore, LevelChange, StreamedBook
from exchange.streams.connection import Send, StreamOptions

logger = logging.getLogger(__name__)

MAX_LIFECYCLE_EVENTS = 256


@dataclass(frozen=True)
class MarketChannelStatus:
    connected: bool
    tokens: int
    books: int
    resyncs: int
    gaps: int
    connects: int
    dropped_messages: int


class MarketChannel:
    def __init__(
        self,
        options: StreamOptions,
        stale_after_s: float = 5.0,
        verify_hash: bool = False,
        custom_features: bool = False,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        self.stale_after_s = stale_after_s
        self.custom_features = custom_features
        self.on_change = on_change
        self.store = BookStore(verify_hash=verify_hash)
        self._lifecycle: deque[dict[str, Any]] = deque(maxlen=MAX_LIFECYCLE_EVENTS)
        self._lock = threading.Lock()
        self._wanted: set[str] = set()
        self._subscribed: set[str] = set()
        self._resyncing: set[str] = set()
        self._send: Send | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = False
        self.connects = 0
        self.resyncs = 0
        self.dropped = 0

    # -- runner side (any thread) --------------------------------------------
    def set_tokens(self, tokens: Iterable[str]) -> None:
        """The tokens to stream; (un)subscribed on the open connection, sent again on reconnect."""
        with self._lock:
            self._wanted = set(tokens)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._sync()))

    def book(self, token_id: str) -> StreamedBook | None:
        with self._lock:
            return self.store.view(token_id, self.stale_after_s, self.connected)

    def lifecycle_events(self) -> list[dict[str, Any]]:
        """`new_market` / `market_resolved` messages since the last call (custom feature only)."""
        with self._lock:
            events = list(self._lifecycle)
            self._lifecycle.clear()
        return events

    def status(self) -> MarketChannelStatus:
        with self._lock:
            synced = sum(1 for b in self.store.books.values() if b.synced)
            return MarketChannelStatus(
                connected=self.connected,
                tokens=len(self._wanted),
                books=synced,
                resyncs=self.resyncs,
                gaps=self.store.gaps,
                connects=self.connects,
                dropped_messages=self.dropped,
            )

    # -- stream side (event loop) --------------------------------------------
    async def on_open(self, send: Send) -> None:
        self._loop = asyncio.get_running_loop()
        with self._lock:
            self._send = send
            self.connected = True
            self.connects += 1
            self._subscribed = set(self._wanted)
            self._resyncing.clear()
            frame = {
                "assets_ids": sorted(self._subscribed),
                "type": "market",
                "custom_feature_enabled": self.custom_features,
            }
        await send(json.dumps(frame))

    def on_close(self) -> None:
        with self._lock:
            self._send = None
            self.connected = False
            self.store.invalidate(list(self.store.books))

    async def on_message(self, data: Any) -> None:
        resync: list[str] = []
        changed: list[str] = []
        with self._lock:
            for item in data if isinstance(data, list) else [data]:
                self._apply(item, resync, changed)
        for token in dict.fromkeys(resync):
            await self._resync(token)
        if self.on_change is not None:
            for token in dict.fromkeys(changed):
                self.on_change(token)

    def _apply(self, item: Any, resync: list[str], changed: list[str]) -> None:
        try:
            event = parse_market_event(item)
        except (ValidationError, ValueError):
            self.dropped += 1
            return
        if isinstance(event, MarketBookEvent):
            self._snapshot(event)
            changed.append(event.payload.asset_id)
        elif isinstance(event, MarketPriceChangeEvent):
            self._changes(event, resync, changed)
        elif isinstance(event, MarketTickSizeChangeEvent):
            self.store.set_tick_size(event.payload.asset_id, event.payload.new_tick_size)
        elif event.type in ("new_market", "market_resolved"):
            self._lifecycle.append(item)
        else:
            self.store.touch(getattr(event.payload, "asset_id", ""))

    def _snapshot(self, event: MarketBookEvent) -> None:
        p = event.payload
        if p.asset_id not in self._subscribed:
            return
        self._resyncing.discard(p.asset_id)
        self.store.apply_snapshot(
            p.asset_id,
            p.market,
            ((lvl.price, lvl.size) for lvl in p.bids),
            ((lvl.price, lvl.size) for lvl in p.asks),
            p.timestamp.timestamp() if p.timestamp else 0.0,
            tick_size=p.tick_size,
            min_order_size=p.min_order_size,
        )

    def _changes(
        self, event: MarketPriceChangeEvent, resync: list[str], changed: list[str]
    ) -> None:
        ts = event.payload.timestamp.timestamp() if event.payload.timestamp else 0.0
        per_token: dict[str, list[LevelChange]] = {}
        for c in event.payload.price_changes:
            if c.asset_id in self._subscribed and c.asset_id not in self._resyncing:
                per_token.setdefault(c.asset_id, []).append(
                    LevelChange(c.asset_id, c.side, c.price, c.size, c.best_bid, c.best_ask, c.hash)
                )
        for token, changes in per_token.items():
            (changed if self.store.apply_changes(changes, ts) else resync).append(token)

    async def _resync(self, token: str) -> None:
        """Ask the venue for a fresh snapshot of one token: unsubscribe, then subscribe again."""
        with self._lock:
            send = self._send
            if send is None or token in self._resyncing:
                return
            self._resyncing.add(token)
            self.resyncs += 1
        logger.info("book of %s out of sync: resubscribing for a snapshot", token)
        await send(json.dumps({"operation": "unsubscribe", "assets_ids": [token]}))
        await send(json.dumps({"operation": "subscribe", "assets_ids": [token]}))

    async def _sync(self) -> None:
        with self._lock:
            send = self._send
            added = sorted(self._wanted - self._subscribed)
            removed = sorted(self._subscribed - self._wanted)
            if send is None:
                return
            self._subscribed = set(self._wanted)
            self.store.forget(removed)
        if added:
            frame = {
                "operation": "subscribe",
                "assets_ids": added,
                "custom_feature_enabled": self.custom_features,
            }
            await send(json.dumps(frame))
        if removed:
            await send(json.dumps({"operation": "unsubscribe", "assets_ids": removed}))
