"""The options that turn on the venue's streams (`run`): market, user and price websockets.

No URL has a default: a runner streams only what it is told to. With none of
them it polls the venue's REST API each tick, as the paper demo does.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # the stream clients import the Polymarket SDK (seconds): only when used
    from exchange.streams.feeds import FeedConfig

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class StreamChoice:
    market_ws: str | None = None
    user_ws: str | None = None
    price_ws: str | None = None
    book_stale_s: float = 5.0
    #: the venue hashes books with `book_digest` (the paper venue): each streamed change's
    #: hash is checked too
    verify_hash: bool = False

    def hashed(self, verify_hash: bool) -> StreamChoice:
        return dataclasses.replace(self, verify_hash=verify_hash)

    def feed_config(self) -> FeedConfig | None:
        """The streams to run, or None when no stream URL was given."""
        if not (self.market_ws or self.user_ws or self.price_ws):
            return None
        from exchange.streams.feeds import FeedConfig

        for name, url in (
            ("--market-ws", self.market_ws),
            ("--user-ws", self.user_ws),
            ("--price-ws", self.price_ws),
        ):
            if url and not url.startswith(("ws://", "wss://")):
                raise click.BadParameter("must be a ws(s) URL", param_hint=name)
        return FeedConfig(
            market_url=self.market_ws or "",
            user_url=self.user_ws or "",
            price_url=self.price_ws or "",
            stale_after_s=self.book_stale_s,
            verify_hash=self.verify_hash,
        )


def stream_options(func: F) -> F:
    """Add --market-ws/--user-ws/--price-ws/--book-stale-s; passes `streams: StreamChoice`."""

    @click.option(
        "--market-ws",
        envvar="NEVERBLINK_MARKET_WS",
        default=None,
        help="Market channel websocket (books); none: books are polled over REST",
    )
    @click.option(
        "--user-ws",
        envvar="NEVERBLINK_USER_WS",
        default=None,
        help="User channel websocket (our orders and trades): fills without /data/trades polls",
    )
    @click.option(
        "--price-ws",
        envvar="NEVERBLINK_PRICE_WS",
        default=None,
        help="Real-time data websocket (reference prices, Chainlink topic)",
    )
    @click.option(
        "--book-stale-s",
        type=click.FloatRange(min=0.1),
        default=5.0,
        show_default=True,
        help="A streamed book with no message for this long is stale: no new entries on it",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        market_ws: str | None,
        user_ws: str | None,
        price_ws: str | None,
        book_stale_s: float,
        **kwargs: Any,
    ) -> Any:
        kwargs["streams"] = StreamChoice(market_ws, user_ws, price_ws, book_stale_s)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
