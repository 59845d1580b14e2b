"""The reference-price stream client (Polymarket's real-time data socket, RTDS dialect).

Subscribes to `crypto_prices_chainlink` (the Chainlink data stream the
Up/Down markets resolve on; symbols `btc/usd`) or `crypto_prices` (exchange
prices; symbols `btcusdt`) for each asset, keeps the last price per asset and
a short history, so a window's start price can be read as the first price
stamped at or after the window's start. Messages are parsed with
polymarket-client's `parse_rtds_event`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from polymarket.models.rtds_events import (
    CryptoPricesBinanceEvent,
    CryptoPricesChainlinkEvent,
    parse_rtds_event,
)

from exchange.streams.connection import Send, StreamOptions

logger = logging.getLogger(__name__)

CHAINLINK = "crypto_prices_chainlink"
BINANCE = "crypto_prices"
HISTORY = 1024  # points kept per asset (about 17 minutes at one a second)


@dataclass(frozen=True)
class PricePoint:
    asset: str
    price: Decimal
    ts: float  # the price's own timestamp (unix seconds)
    received_at: float  # local monotonic time it arrived


def symbol_of(topic: str, asset: str) -> str:
    return f"{asset}/usd" if topic == CHAINLINK else f"{asset}usdt"


def asset_of(topic: str, symbol: str) -> str:
    symbol = symbol.lower()
    return symbol.split("/")[0] if topic == CHAINLINK else symbol.removesuffix("usdt")


class PriceStream:
    def __init__(
        self,
        options: StreamOptions,
        assets: Iterable[str],
        topic: str = CHAINLINK,
        on_price: Callable[[PricePoint], None] | None = None,
    ) -> None:
        if topic not in (CHAINLINK, BINANCE):
            raise ValueError(f"topic must be {CHAINLINK!r} or {BINANCE!r}")
        self.options = options
        self.topic = topic
        self.assets = tuple(assets)
        self.on_price = on_price
        self._lock = threading.Lock()
        self._history: dict[str, deque[PricePoint]] = {
            a: deque(maxlen=HISTORY) for a in self.assets
        }
        self.connected = False
        self.connects = 0
        self.dropped = 0

    # -- runner side ---------------------------------------------------------
    def last(self, asset: str) -> PricePoint | None:
        with self._lock:
            points = self._history.get(asset)
            return points[-1] if points else None

    def price_at(self, asset: str, ts: float) -> PricePoint | None:
        """The first price stamped at or after `ts`, when the history still holds it.

        None when no such price arrived yet, or when the oldest price kept is
        already after `ts` with nothing known before it (the start was missed).
        """
        with self._lock:
            points = list(self._history.get(asset, ()))
        if not points or points[0].ts > ts:
            return None
        return next((p for p in points if p.ts >= ts), None)

    def history(self, asset: str) -> list[PricePoint]:
        with self._lock:
            return list(self._history.get(asset, ()))

    # -- stream side ---------------------------------------------------------
    async def on_open(self, send: Send) -> None:
        self.connected = True
        self.connects += 1
        subs = [
            {
                "topic": self.topic,
                "type": "*" if self.topic == CHAINLINK else "update",
                "filters": json.dumps({"symbol": symbol_of(self.topic, a)})
                if self.topic == CHAINLINK
                else symbol_of(self.topic, a),
            }
            for a in self.assets
        ]
        await send(json.dumps({"action": "subscribe", "subscriptions": subs}))

    def on_close(self) -> None:
        self.connected = False

    async def on_message(self, data: Any) -> None:
        for item in data if isinstance(data, list) else [data]:
            point = self._parse(item)
            if point is None:
                continue
            with self._lock:
                points = self._history.get(point.asset)
                if points is None or (points and point.ts <= points[-1].ts):
                    continue  # not ours, or not newer than what we have
                points.append(point)
            if self.on_price is not None:
                self.on_price(point)

    def _parse(self, item: Any) -> PricePoint | None:
        try:
            event = parse_rtds_event(item)
        except ValueError:
            self.dropped += 1
            return None
        if not isinstance(event, CryptoPricesChainlinkEvent | CryptoPricesBinanceEvent):
            return None
        wire = CHAINLINK if isinstance(event, CryptoPricesChainlinkEvent) else BINANCE
        if wire != self.topic:
            return None
        payload = event.payload
        return PricePoint(
            asset=asset_of(wire, payload.symbol),
            price=payload.value,
            ts=payload.timestamp / 1000.0,
            received_at=time.monotonic(),
        )
