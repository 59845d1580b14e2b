"""Parsing the documented message shapes: the market channel, the user channel, the price stream."""

from __future__ import annotations

import asyncio
import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from exchange.auth import ApiCredentials
from exchange.streams import (
    BINANCE,
    MarketChannel,
    OrderEvent,
    PriceStream,
    StreamOptions,
    TradeEvent,
    UserChannel,
)
from tests.exchange.streams import samples

OPTIONS = StreamOptions(url="ws://127.0.0.1:1/unused")
D = Decimal


class Wire:
    """Collects the frames a client sends."""

    def __init__(self) -> None:
        self.frames: list[Any] = []

    async def __call__(self, text: str) -> None:
        self.frames.append(json.loads(text))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def opened_market(*tokens: str) -> tuple[MarketChannel, Wire]:
    channel, wire = MarketChannel(OPTIONS, stale_after_s=60.0), Wire()
    channel.set_tokens(tokens)
    run(channel.on_open(wire))
    return channel, wire


def test_subscription_frame_is_the_documented_one() -> None:
    _, wire = opened_market(samples.TOKEN)
    assert wire.frames == [
        {"assets_ids": [samples.TOKEN], "type": "market", "custom_feature_enabled": False}
    ]


def test_book_snapshot_builds_the_local_book() -> None:
    channel, _ = opened_market(samples.TOKEN)
    run(channel.on_message(samples.BOOK))
    view = channel.book(samples.TOKEN)
    assert view is not None and not view.stale
    assert view.book.best_bid == D("0.50") and view.book.best_ask == D("0.52")
    assert [lvl.price for lvl in view.book.bids] == [D("0.50"), D("0.49"), D("0.48")]
    assert view.book.market == samples.MARKET


def test_price_change_sets_and_removes_levels() -> None:
    channel, wire = opened_market(samples.TOKEN)
    run(channel.on_message(samples.BOOK))
    run(channel.on_message(samples.PRICE_CHANGE))
    view = channel.book(samples.TOKEN)
    assert view is not None
    assert view.book.best_bid == D("0.51") and view.book.best_ask == D("0.53")
    assert {lvl.price: lvl.size for lvl in view.book.bids}[D("0.51")] == D("200")
    assert D("0.52") not in {lvl.price for lvl in view.book.asks}
    assert channel.status().resyncs == 0 and len(wire.frames) == 1


def test_initial_dump_as_an_array_is_read_too() -> None:
    other = copy.deepcopy(samples.BOOK) | {"asset_id": samples.OTHER}
    channel, _ = opened_market(samples.TOKEN, samples.OTHER)
    run(channel.on_message([samples.BOOK, other]))
    assert channel.book(samples.TOKEN) is not None and channel.book(samples.OTHER) is not None


def test_tick_size_change_updates_the_tick() -> None:
    channel, _ = opened_market(samples.TOKEN)
    run(channel.on_message(samples.BOOK))
    run(channel.on_message(samples.TICK_SIZE_CHANGE))
    view = channel.book(samples.TOKEN)
    assert view is not None and view.book.tick_size == D("0.001")


def test_last_trade_price_is_understood_and_changes_no_level() -> None:
    channel, _ = opened_market(samples.TOKEN)
    run(channel.on_message(samples.BOOK))
    before = channel.book(samples.TOKEN)
    run(channel.on_message(samples.LAST_TRADE_PRICE))
    after = channel.book(samples.TOKEN)
    assert channel.status().dropped_messages == 0
    assert before is not None and after is not None and after.book.bids == before.book.bids


def test_a_change_that_disagrees_with_the_book_asks_for_a_snapshot() -> None:
    channel, wire = opened_market(samples.TOKEN)
    run(channel.on_message(samples.BOOK))
    wrong = copy.deepcopy(samples.PRICE_CHANGE)
    wrong["price_changes"][-1]["best_bid"] = "0.47"  # the venue has another book: we missed one
    run(channel.on_message(wrong))
    assert channel.book(samples.TOKEN) is None  # not served until the snapshot
    assert wire.frames[1:] == [
        {"operation": "unsubscribe", "assets_ids": [samples.TOKEN]},
        {"operation": "subscribe", "assets_ids": [samples.TOKEN]},
    ]
    run(channel.on_message(samples.BOOK))
    assert channel.book(samples.TOKEN) is not None
    assert channel.status().resyncs == 1


def test_garbage_is_counted_not_applied() -> None:
    channel, _ = opened_market(samples.TOKEN)
    run(channel.on_message({"event_type": "book", "asset_id": samples.TOKEN}))
    assert channel.status().dropped_messages == 1 and channel.book(samples.TOKEN) is None


def opened_user() -> tuple[UserChannel, Wire]:
    creds = ApiCredentials("key-1", "c2VjcmV0", "phrase")
    channel, wire = UserChannel(OPTIONS, creds, markets=[samples.MARKET]), Wire()
    run(channel.on_open(wire))
    return channel, wire


def test_user_subscription_carries_auth_and_markets() -> None:
    _, wire = opened_user()
    assert wire.frames == [
        {
            "auth": {"apiKey": "key-1", "secret": "c2VjcmV0", "passphrase": "phrase"},
            "markets": [samples.MARKET],
            "type": "user",
        }
    ]


def test_order_event() -> None:
    channel, _ = opened_user()
    run(channel.on_message(samples.ORDER))
    run(channel.on_message(samples.ORDER))  # a repeat is delivered once
    events = channel.drain()
    assert len(events) == 1 and isinstance(events[0], OrderEvent)
    event = events[0]
    assert (event.kind, event.side, event.price, event.size_matched) == (
        "PLACEMENT",
        "SELL",
        D("0.57"),
        D("0"),
    )


def test_trade_is_delivered_once_per_status_and_never_backwards() -> None:
    channel, _ = opened_user()
    for status in ("MATCHED", "MATCHED", "MINED", "MATCHED", "CONFIRMED", "CONFIRMED"):
        run(channel.on_message(samples.TRADE | {"status": status}))
    events = channel.drain()
    assert [e.status for e in events if isinstance(e, TradeEvent)] == [
        "MATCHED",
        "MINED",
        "CONFIRMED",
    ]
    trade = events[0]
    assert isinstance(trade, TradeEvent)
    assert (trade.size, trade.price, trade.maker_orders[0].size) == (D("10"), D("0.57"), D("10"))


def test_failed_trade_path() -> None:
    channel, _ = opened_user()
    for status in ("MATCHED", "RETRYING", "FAILED", "MINED"):
        run(channel.on_message(samples.TRADE | {"status": status}))
    statuses = [e.status for e in channel.drain() if isinstance(e, TradeEvent)]
    assert statuses == ["MATCHED", "RETRYING", "FAILED"]
    assert channel.trade_status(samples.TRADE["id"]) == "FAILED"


def test_de_duplication_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("exchange.streams.user.MEMORY", 5)
    channel, _ = opened_user()
    for n in range(12):
        run(channel.on_message(samples.TRADE | {"id": f"trade-{n}", "status": "MATCHED"}))
        run(channel.on_message(samples.ORDER | {"id": f"order-{n}"}))
    assert channel.remembered() == 10  # 5 trades + 5 orders, the newest
    assert channel.trade_status("trade-0") is None and channel.trade_status("trade-11") == "MATCHED"
    run(channel.on_message(samples.TRADE | {"id": "trade-11", "status": "MATCHED"}))
    assert len(channel.drain()) == 24  # the recent repeat is still dropped


def test_chainlink_price_update() -> None:
    stream, wire = PriceStream(OPTIONS, ["eth"]), Wire()
    run(stream.on_open(wire))
    assert wire.frames == [
        {
            "action": "subscribe",
            "subscriptions": [
                {
                    "topic": "crypto_prices_chainlink",
                    "type": "*",
                    "filters": json.dumps({"symbol": "eth/usd"}),
                }
            ],
        }
    ]
    run(stream.on_message(samples.CHAINLINK_PRICE))
    point = stream.last("eth")
    assert point is not None
    assert (point.price, point.ts) == (D("3456.78"), 1753314064.213)


def test_exchange_price_update() -> None:
    stream = PriceStream(OPTIONS, ["sol"], topic=BINANCE)
    run(stream.on_message(samples.BINANCE_PRICE))
    run(stream.on_message(samples.CHAINLINK_PRICE))  # another topic: not ours
    point = stream.last("sol")
    assert point is not None and point.price == D("189.55")
    assert stream.last("eth") is None


def test_a_retried_trade_may_still_settle() -> None:
    channel, _ = opened_user()
    for status in ("MATCHED", "RETRYING", "MINED", "CONFIRMED", "FAILED"):
        run(channel.on_message(samples.TRADE | {"status": status}))
    statuses = [e.status for e in channel.drain() if isinstance(e, TradeEvent)]
    assert statuses == ["MATCHED", "RETRYING", "MINED", "CONFIRMED"]  # nothing after the end
