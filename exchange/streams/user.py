"""The CLOB user channel client: our own order and trade events, each delivered once.

Subscribes with the API credentials and the condition ids of the markets we
trade. Events are parsed with polymarket-client's models and handed to the
runner through `drain()`:

- `OrderEvent` once per (order id, PLACEMENT | UPDATE | CANCELLATION, matched size);
- `TradeEvent` once per (trade id, status). A trade's status only moves
  forward: MATCHED -> MINED -> CONFIRMED, or MATCHED -> RETRYING -> FAILED (a
  FAILED trade is not a fill; a RETRYING one may still be MINED); an older
  status arriving late, or anything after CONFIRMED / FAILED, is dropped.
  `TradeEvent.fills` are our fills in it, read by the very code that reads
  /data/trades (`exchange.convert.fills`, same fill ids), so a fill learnt from
  both is one fill.

The credentials go in the subscription frame only; they are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from polymarket.models.clob.user_events import (
    UserOrderEvent,
    UserTradeEvent,
    parse_user_event,
)
from pydantic import ValidationError

from exchange import convert
from exchange.auth import ApiCredentials
from exchange.errors import MalformedResponse
from exchange.streams.connection import Send, StreamOptions
from exchange.types import VenueFill
from exchange.wire import WireTrade

logger = logging.getLogger(__name__)

#: How far along its settlement a trade status is; a trade never goes back.
STATUS_RANK = {"MATCHED": 0, "MINED": 1, "RETRYING": 1, "CONFIRMED": 2, "FAILED": 2}
FINAL = ("CONFIRMED", "FAILED")


@dataclass(frozen=True)
class OrderEvent:
    order_id: str
    kind: str  # PLACEMENT, UPDATE, CANCELLATION
    market: str
    token_id: str
    side: str
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    status: str | None


@dataclass(frozen=True)
class MakerFill:
    order_id: str
    size: Decimal
    price: Decimal


@dataclass(frozen=True)
class TradeEvent:
    trade_id: str
    status: str  # MATCHED, MINED, CONFIRMED, RETRYING, FAILED
    market: str
    token_id: str
    side: str
    price: Decimal
    size: Decimal
    trader_side: str | None  # TAKER or MAKER: which side of it we were
    taker_order_id: str
    maker_orders: tuple[MakerFill, ...]
    fills: tuple[VenueFill, ...] = ()  # ours in this trade, each with this event's status

    @property
    def final(self) -> bool:
        return self.status in FINAL


UserEvent = OrderEvent | TradeEvent

MEMORY = 20_000  # order and trade keys remembered per map for de-duplication

K = TypeVar("K")
V = TypeVar("V")


def remember(memory: OrderedDict[K, V], key: K, value: V) -> None:
    """Record `key` as the newest entry, forgetting the oldest beyond `MEMORY`."""
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > MEMORY:
        memory.popitem(last=False)


class UserChannel:
    def __init__(
        self,
        options: StreamOptions,
        credentials: ApiCredentials,
        markets: Iterable[str] = (),
        on_event: Callable[[UserEvent], None] | None = None,
        owner: str | None = None,
    ) -> None:
        self.options = options
        self._credentials = credentials
        self.owner = owner if owner is not None else credentials.api_key  # whose fills are ours
        self.on_event = on_event
        self._lock = threading.Lock()
        self._markets = set(markets)
        self._events: list[UserEvent] = []
        # What was delivered, to drop repeats: bounded, oldest forgotten first (a repeat
        # older than that reaches the idempotent Lua transitions, which ignore it)
        self._orders_seen: OrderedDict[tuple[str, str, Decimal], None] = OrderedDict()
        self._trades: OrderedDict[str, tuple[int, str]] = OrderedDict()  # id -> (rank, status)
        self._send: Send | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = False
        self.connects = 0
        self.dropped = 0

    # -- runner side ---------------------------------------------------------
    def drain(self) -> list[UserEvent]:
        """Events since the last drain, oldest first."""
        with self._lock:
            events, self._events = self._events, []
        return events

    def trade_status(self, trade_id: str) -> str | None:
        with self._lock:
            known = self._trades.get(trade_id)
        return known[1] if known is not None else None

    def remembered(self) -> int:
        """How many order and trade keys the de-duplication holds (bounded by `MEMORY`)."""
        with self._lock:
            return len(self._orders_seen) + len(self._trades)

    def set_markets(self, markets: Iterable[str]) -> None:
        with self._lock:
            wanted = set(markets)
            added, removed = wanted - self._markets, self._markets - wanted
            self._markets = wanted
        loop = self._loop
        if loop is not None and not loop.is_closed() and (added or removed):
            loop.call_soon_threadsafe(
                lambda: asyncio.ensure_future(self._update(sorted(added), sorted(removed)))
            )

    # -- stream side ---------------------------------------------------------
    async def on_open(self, send: Send) -> None:
        self._loop = asyncio.get_running_loop()
        creds = self._credentials
        with self._lock:
            self._send = send
            self.connected = True
            self.connects += 1
            markets = sorted(self._markets)
        frame = {
            "auth": {
                "apiKey": creds.api_key,
                "secret": creds.secret,
                "passphrase": creds.passphrase,
            },
            "markets": markets,
            "type": "user",
        }
        await send(json.dumps(frame))

    def on_close(self) -> None:
        with self._lock:
            self._send = None
            self.connected = False

    async def on_message(self, data: Any) -> None:
        fresh: list[UserEvent] = []
        with self._lock:
            for item in data if isinstance(data, list) else [data]:
                event = self._accept(item)
                if event is not None:
                    self._events.append(event)
                    fresh.append(event)
        if self.on_event is not None:
            for event in fresh:
                self.on_event(event)

    def _accept(self, item: Any) -> UserEvent | None:
        try:
            parsed = parse_user_event(item)
        except (ValidationError, ValueError):
            self.dropped += 1
            return None
        if isinstance(parsed, UserOrderEvent):
            return self._order(parsed)
        return self._trade(parsed, item)

    def _order(self, parsed: UserOrderEvent) -> OrderEvent | None:
        p = parsed.payload
        key = (p.id, p.order_event_type, p.size_matched)
        if key in self._orders_seen:
            return None
        remember(self._orders_seen, key, None)
        return OrderEvent(
            order_id=p.id,
            kind=p.order_event_type,
            market=p.market,
            token_id=p.asset_id,
            side=str(p.side),
            price=p.price,
            original_size=p.original_size,
            size_matched=p.size_matched,
            status=str(p.status) if p.status is not None else None,
        )

    def _trade(self, parsed: UserTradeEvent, raw: Any) -> TradeEvent | None:
        p = parsed.payload
        status = str(p.status)
        rank = STATUS_RANK.get(status, -1)
        seen = self._trades.get(p.id)
        if seen is not None and (rank < seen[0] or seen[1] == status or seen[1] in FINAL):
            return None  # a repeat, an older status arriving late, or after the end
        remember(self._trades, p.id, (rank, status))
        makers = tuple(
            MakerFill(m.order_id, m.matched_amount, m.price) for m in p.maker_orders or ()
        )
        return TradeEvent(
            trade_id=p.id,
            status=status,
            market=p.market,
            token_id=p.asset_id,
            side=str(p.side),
            price=p.price,
            size=p.size,
            trader_side=p.trader_side,
            taker_order_id=p.taker_order_id,
            maker_orders=makers,
            fills=self._fills(raw, status),
        )

    def _fills(self, raw: Any, status: str) -> tuple[VenueFill, ...]:
        """Our fills in a trade message, as /data/trades would give them."""
        item = dict(raw) if isinstance(raw, dict) else {}
        if "match_time" not in item:  # the CLOB spells it `matchtime` on some messages
            item["match_time"] = item.get("matchtime") or str(
                int(int(item.get("timestamp") or 0) / 1000)
            )
        item["status"] = status
        try:
            return tuple(convert.fills(convert.parse(WireTrade, item, "trade"), self.owner))
        except MalformedResponse as exc:
            logger.warning(
                "trade %s: fills unreadable, left to /data/trades: %s", item.get("id"), exc
            )
            return ()

    async def _update(self, added: list[str], removed: list[str]) -> None:
        send = self._send
        if send is None:
            return
        if added:
            await send(json.dumps({"operation": "subscribe", "markets": added}))
        if removed:
            await send(json.dumps({"operation": "unsubscribe", "markets": removed}))
