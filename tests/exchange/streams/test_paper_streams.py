"""The stream clients against the paper venue's streams, through its fault switch."""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import partial

import pytest

from exchange import MarketWindow
from exchange.auth import ApiCredentials
from exchange.streams import (
    FeedConfig,
    LiveFeeds,
    MarketChannel,
    PriceStream,
    TradeEvent,
    UserChannel,
)
from tests.exchange.helpers import live_window, order
from tests.exchange.streams.conftest import CREDS, StreamVenue, wait_until


def levels(book: object) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    bids = {lvl.price: lvl.size for lvl in getattr(book, "bids", ())}
    asks = {lvl.price: lvl.size for lvl in getattr(book, "asks", ())}
    return bids, asks


def in_step(venue: StreamVenue, channel: MarketChannel, token: str) -> bool:
    """The streamed book is synced, fresh, and equal to the venue's REST book of this second."""
    view = channel.book(token)
    rest = venue.client.book(token)
    return (
        view is not None
        and not view.stale
        and rest is not None
        and (levels(view.book) == levels(rest))
    )


def streaming(venue: StreamVenue, **options: float) -> tuple[MarketChannel, MarketWindow]:
    window = live_window(venue.client)
    stale_after = options.pop("stale_after_s", 30.0)
    channel = MarketChannel(
        venue.ws("/ws/market", **options), stale_after_s=stale_after, verify_hash=True
    )
    channel.set_tokens([window.up_token, window.down_token])
    venue.start(channel)
    for token in (window.up_token, window.down_token):
        wait_until(partial(in_step, venue, channel, token), what=f"book of {token}")
    return channel, window


def test_books_follow_the_venue_second_by_second(stream_venue: StreamVenue) -> None:
    channel, window = streaming(stream_venue)
    for _ in range(3):
        stream_venue.clock.advance(1)
        wait_until(lambda: in_step(stream_venue, channel, window.up_token), what="next second")
        wait_until(lambda: in_step(stream_venue, channel, window.down_token), what="next second")
    assert channel.status().resyncs == 0 and channel.status().gaps == 0


def test_dropped_connection_reconnects_and_resyncs(stream_venue: StreamVenue) -> None:
    channel, window = streaming(stream_venue, backoff_initial_s=0.01)
    stream_venue.faults.drop()
    wait_until(lambda: channel.status().connects >= 2, what="reconnect")
    stream_venue.clock.advance(1)
    wait_until(lambda: in_step(stream_venue, channel, window.up_token), what="resynced book")
    assert stream_venue.faults.dropped >= 1


def test_silent_connection_marks_books_stale_then_recovers(stream_venue: StreamVenue) -> None:
    channel, window = streaming(stream_venue, stale_after_s=0.3, silence_timeout_s=30.0)
    stream_venue.faults.silent = True
    stream_venue.clock.advance(1)
    wait_until(
        lambda: (v := channel.book(window.up_token)) is not None and v.stale, what="stale flag"
    )
    stream_venue.faults.silent = False
    stream_venue.clock.advance(1)
    wait_until(lambda: in_step(stream_venue, channel, window.up_token), what="fresh book again")
    view = channel.book(window.up_token)
    assert view is not None and not view.stale


def test_silence_longer_than_the_limit_reconnects(stream_venue: StreamVenue) -> None:
    channel, window = streaming(
        stream_venue, stale_after_s=0.2, silence_timeout_s=0.5, backoff_initial_s=0.01
    )
    stream_venue.faults.silent = True
    wait_until(lambda: channel.status().connects >= 2, what="reconnect after silence")
    stream_venue.faults.silent = False
    stream_venue.clock.advance(1)
    wait_until(lambda: in_step(stream_venue, channel, window.up_token), what="book after silence")


def test_missed_sequence_is_detected_and_resynced(stream_venue: StreamVenue) -> None:
    channel, window = streaming(stream_venue)
    stream_venue.faults.skip(1)
    stream_venue.clock.advance(1)
    wait_until(lambda: stream_venue.faults.skipped == 1, what="a skipped message")
    stream_venue.clock.advance(1)
    wait_until(lambda: channel.status().resyncs >= 1, what="resync")
    for token in (window.up_token, window.down_token):
        wait_until(partial(in_step, stream_venue, channel, token), what="resynced book")
    assert channel.status().connects == 1  # resynced on the same connection


def user_channel(venue: StreamVenue, window: MarketWindow) -> UserChannel:
    channel = UserChannel(venue.ws("/ws/user"), CREDS, markets=[window.condition_id])
    venue.start(channel)
    wait_until(lambda: channel.connected, what="user channel")
    return channel


def trade_statuses(events: list[object]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for event in events:
        if isinstance(event, TradeEvent):
            out.setdefault(event.trade_id, []).append(event.status)
    return out


def buy_now(venue: StreamVenue, window: MarketWindow, coid: str) -> None:
    book = venue.client.book(window.up_token)
    assert book is not None
    venue.client.place(order(coid, window.up_token, "BUY", book.best_ask, "10", "FAK"))


def test_user_channel_delivers_each_trade_once_per_status(stream_venue: StreamVenue) -> None:
    window = live_window(stream_venue.client)
    channel = user_channel(stream_venue, window)
    events: list[object] = []
    buy_now(stream_venue, window, "c-1")

    def settled() -> bool:
        events.extend(channel.drain())
        statuses = trade_statuses(events)
        return bool(statuses) and all(s[-1] == "CONFIRMED" for s in statuses.values())

    wait_until(settled, what="trades confirmed")
    for statuses in trade_statuses(events).values():
        assert statuses == ["MATCHED", "MINED", "CONFIRMED"]
    kinds = [getattr(e, "kind", None) for e in events if not isinstance(e, TradeEvent)]
    assert kinds[0] == "PLACEMENT" and "UPDATE" in kinds
    fills, _ = stream_venue.client.fills_since(None)
    assert {f.fill_id.split(":")[0] for f in fills} == set(trade_statuses(events))


def test_failed_trade_is_reported_and_reversed_at_the_venue(stream_venue: StreamVenue) -> None:
    window = live_window(stream_venue.client)
    channel = user_channel(stream_venue, window)
    stream_venue.faults.fail_trades(100)
    events: list[object] = []
    buy_now(stream_venue, window, "c-fail")

    def failed() -> bool:
        events.extend(channel.drain())
        statuses = trade_statuses(events)
        return bool(statuses) and all(s[-1] == "FAILED" for s in statuses.values())

    wait_until(failed, what="trades failed")
    for statuses in trade_statuses(events).values():
        assert statuses == ["MATCHED", "RETRYING", "FAILED"]
    account = stream_venue.client._get("/paper/account", auth=True)
    assert account["positions"] == {}  # the shares are gone again
    assert Decimal(account["cash"]) == 0


def priced_at(stream: PriceStream, ts: int) -> bool:
    point = stream.last("btc")
    return point is not None and point.ts == ts


def test_price_stream_is_the_reference_process(stream_venue: StreamVenue) -> None:
    window = live_window(stream_venue.client)
    stream = PriceStream(stream_venue.ws("/ws/live-data"), ["btc", "eth"])
    stream_venue.start(stream)
    wait_until(lambda: stream.last("btc") is not None, what="a btc price")
    for _ in range(2):
        stream_venue.clock.advance(1)
        now = int(stream_venue.client.server_time())
        wait_until(partial(priced_at, stream, now), what="tick")
        point = stream.last("btc")
        reference = stream_venue.client.reference_price("btc")
        assert point is not None and point.price == reference.price
    assert window.start_price is not None
    start = stream.price_at("btc", window.start_ts)
    assert start is not None and start.price == Decimal(window.start_price)


def test_credentials_never_reach_a_log(
    stream_venue: StreamVenue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    window = live_window(stream_venue.client)
    channel = user_channel(stream_venue, window)
    buy_now(stream_venue, window, "c-log")
    wait_until(lambda: bool(channel.drain()), what="an event")
    assert caplog.records  # debug logging was on
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert CREDS.secret not in text and CREDS.passphrase not in text
    assert '"auth"' not in text  # not even the start of the subscription frame


def test_wrong_credentials_are_refused(stream_venue: StreamVenue) -> None:
    window = live_window(stream_venue.client)
    bad = ApiCredentials(CREDS.api_key, CREDS.secret, "not-the-passphrase")
    channel = UserChannel(
        stream_venue.ws("/ws/user", backoff_initial_s=0.05), bad, markets=[window.condition_id]
    )
    stream_venue.start(channel)
    wait_until(lambda: channel.connects >= 2, what="refused, then tried again")
    buy_now(stream_venue, window, "c-bad")
    good = user_channel(stream_venue, window)
    buy_now(stream_venue, window, "c-good")
    wait_until(lambda: bool(good.drain()), what="events for the right credentials")
    assert channel.drain() == []


def test_live_feeds_bundle_the_three_streams(stream_venue: StreamVenue) -> None:
    window = live_window(stream_venue.client)
    base = stream_venue.url.replace("http://", "ws://")
    config = FeedConfig(
        market_url=base + "/ws/market",
        user_url=base + "/ws/user",
        price_url=base + "/ws/live-data",
        credentials=CREDS,
        assets=("btc",),
        verify_hash=True,
    )
    feeds = LiveFeeds(config).start()
    try:
        assert feeds.market is not None and feeds.user is not None and feeds.prices is not None
        feeds.user.set_markets([window.condition_id])
        feeds.market.set_tokens([window.up_token])
        wait_until(
            lambda: (
                feeds.market is not None and in_step(stream_venue, feeds.market, window.up_token)
            )
        )
        wait_until(lambda: feeds.prices is not None and feeds.prices.last("btc") is not None)
        wait_until(lambda: feeds.user is not None and feeds.user.connected)
        buy_now(stream_venue, window, "c-feeds")
        wait_until(lambda: feeds.user is not None and bool(feeds.user.drain()), what="user event")
    finally:
        feeds.stop()


def test_tokens_follow_the_leases(stream_venue: StreamVenue) -> None:
    channel, window = streaming(stream_venue)
    channel.set_tokens([window.down_token])
    wait_until(lambda: channel.book(window.up_token) is None, what="up token dropped")
    stream_venue.clock.advance(1)
    wait_until(lambda: in_step(stream_venue, channel, window.down_token), what="down book")
    channel.set_tokens([window.up_token, window.down_token])
    wait_until(lambda: in_step(stream_venue, channel, window.up_token), what="up book again")
    assert channel.status().connects == 1


def test_custom_feature_lifecycle_events(stream_venue: StreamVenue) -> None:
    window = live_window(stream_venue.client)
    channel = MarketChannel(stream_venue.ws("/ws/market"), custom_features=True)
    channel.set_tokens([window.up_token, window.down_token])
    stream_venue.start(channel)
    wait_until(lambda: channel.book(window.up_token) is not None, what="book")
    events: list[dict[str, object]] = []

    def seen(kind: str) -> bool:
        events.extend(channel.lifecycle_events())
        return any(e["event_type"] == kind for e in events)

    stream_venue.clock.advance(window.end_ts - stream_venue.client.server_time() + 1)
    wait_until(lambda: seen("market_resolved"), what="market_resolved")
    wait_until(lambda: seen("new_market"), what="new_market")
    resolved = next(e for e in events if e["event_type"] == "market_resolved")
    assert resolved["market"] == window.condition_id
    assert resolved["winning_asset_id"] in (window.up_token, window.down_token)
    assert channel.status().dropped_messages == 0  # every message parsed by the SDK's models


def test_pong_keeps_a_quiet_connection_open(stream_venue: StreamVenue) -> None:
    quiet = MarketChannel(
        stream_venue.ws("/ws/market", ping_interval_s=0.05, silence_timeout_s=0.5)
    )
    quiet.set_tokens(["1"])  # a token the venue does not know: no book traffic, only PONGs
    stream_venue.start(quiet)
    wait_until(lambda: quiet.status().connected, what="connected")
    deaf = MarketChannel(stream_venue.ws("/ws/market", ping_interval_s=5.0, silence_timeout_s=0.5))
    deaf.set_tokens(["1"])
    stream_venue.start(deaf)
    wait_until(lambda: deaf.status().connects >= 3, what="reconnects without PONGs")
    assert quiet.status().connects == 1
