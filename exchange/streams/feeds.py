"""`LiveFeeds`: the stream clients a runner needs, built from URLs and started on one thread.

    feeds = LiveFeeds(FeedConfig(market_url=..., user_url=..., price_url=...,
                                 credentials=creds, assets=("btc", "eth"))).start()
    feeds.market.set_tokens(tokens)          # as leases change
    view = feeds.market.book(token)          # StreamedBook or None (-> REST fallback)
    point = feeds.prices.last("btc")         # PricePoint or None
    for event in feeds.user.drain(): ...     # OrderEvent / TradeEvent, each once
    feeds.stop()

A URL left empty leaves that client out (`market`, `user` or `prices` is None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exchange.auth import ApiCredentials
from exchange.streams.connection import StreamOptions
from exchange.streams.hub import StreamClient, StreamHub
from exchange.streams.market import MarketChannel
from exchange.streams.prices import CHAINLINK, PricePoint, PriceStream
from exchange.streams.user import UserChannel, UserEvent

CLOB_PING_S = 10.0
RTDS_PING_S = 5.0


@dataclass(frozen=True)
class FeedConfig:
    market_url: str = ""  # e.g. wss://ws-subscriptions-clob.polymarket.com/ws/market
    user_url: str = ""  # e.g. wss://ws-subscriptions-clob.polymarket.com/ws/user
    price_url: str = ""  # e.g. wss://ws-live-data.polymarket.com
    credentials: ApiCredentials | None = None  # needed for the user channel
    assets: tuple[str, ...] = ("btc", "eth")
    price_topic: str = CHAINLINK
    stale_after_s: float = 5.0
    silence_timeout_s: float = 30.0
    verify_hash: bool = False  # True only against a venue hashing books with `book_digest`
    custom_features: bool = False


class LiveFeeds:
    def __init__(
        self,
        config: FeedConfig,
        on_book: Callable[[str], None] | None = None,
        on_price: Callable[[PricePoint], None] | None = None,
        on_user: Callable[[UserEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.market: MarketChannel | None = None
        self.user: UserChannel | None = None
        self.prices: PriceStream | None = None
        clients: list[StreamClient] = []
        if config.market_url:
            self.market = MarketChannel(
                self._options(config.market_url, CLOB_PING_S),
                stale_after_s=config.stale_after_s,
                verify_hash=config.verify_hash,
                custom_features=config.custom_features,
                on_change=on_book,
            )
            clients.append(self.market)
        if config.user_url:
            if config.credentials is None:
                raise ValueError("the user channel needs API credentials")
            self.user = UserChannel(
                self._options(config.user_url, CLOB_PING_S), config.credentials, on_event=on_user
            )
            clients.append(self.user)
        if config.price_url:
            self.prices = PriceStream(
                self._options(config.price_url, RTDS_PING_S),
                config.assets,
                topic=config.price_topic,
                on_price=on_price,
            )
            clients.append(self.prices)
        self.hub = StreamHub(clients)

    def _options(self, url: str, ping_s: float) -> StreamOptions:
        return StreamOptions(
            url=url, ping_interval_s=ping_s, silence_timeout_s=self.config.silence_timeout_s
        )

    def start(self) -> LiveFeeds:
        self.hub.start()
        return self

    def stop(self) -> None:
        self.hub.stop()
