"""Live data from the venue: window discovery (Gamma), the market and user channels, prices.

from exchange.streams import Discovery, MarketChannel, PriceStream, StreamHub, UserChannel
"""

from exchange.streams.books import BookStore, StreamedBook, book_digest
from exchange.streams.connection import StreamOptions
from exchange.streams.discovery import DiscoveredWindow, Discovery, Miss
from exchange.streams.feeds import FeedConfig, LiveFeeds
from exchange.streams.hub import StreamHub
from exchange.streams.market import MarketChannel, MarketChannelStatus
from exchange.streams.prices import BINANCE, CHAINLINK, PricePoint, PriceStream
from exchange.streams.user import OrderEvent, TradeEvent, UserChannel, UserEvent

__all__ = [
    "BINANCE",
    "CHAINLINK",
    "BookStore",
    "DiscoveredWindow",
    "Discovery",
    "FeedConfig",
    "LiveFeeds",
    "MarketChannel",
    "MarketChannelStatus",
    "Miss",
    "OrderEvent",
    "PricePoint",
    "PriceStream",
    "StreamHub",
    "StreamOptions",
    "StreamedBook",
    "TradeEvent",
    "UserChannel",
    "UserEvent",
    "book_digest",
]
