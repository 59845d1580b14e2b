"""A runner learning its fills from the user channel of a paper venue on a loopback socket.

Counted at the venue (`GET /paper/stats`): no /data/trades request while the
stream is connected; polls again while it is down. Every venue fill lands in
Redis once, a FAILED trade leaves no trace in the position, and reconciliation
(/data/trades) agrees with what the stream built.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from exchange.types import OrderRequest
from runner.tick import run_tick
from state_store.audit import read_stream
from state_store.models import Position, adopted_client_order_id
from tests.runner.processes import wait_for
from tests.runner.strategy_sources import ALWAYS_BUY
from tests.runner.stream_rig import Streamed, stream_rig

TRADES = "GET /data/trades"
#: buys Up at the ask in every market, a new order each tick
EVERY_TICK = ALWAYS_BUY.replace('key = "buy-" + str(view.params["tag"])', 'key = f"t{view.tick}"')


def status_of(s: Streamed) -> dict[str, Any]:
    section: dict[str, Any] = json.loads(s.rt.settings.status_file.read_text())["runners"]["r1"]
    return section


def untouched(pos: Position) -> bool:
    """No shares, cash, fees, fills or PnL (the window may have been settled meanwhile)."""
    return replace(pos, settled=False) == Position(pos.market)


@pytest.fixture(params=["paper", "live"])
def streamed(
    request: pytest.FixtureRequest, tmp_path: Path, real_redis: redis.Redis, redis_url: str,
    strategies_dir: Path,
) -> Iterator[Callable[..., Streamed]]:  # fmt: skip
    with stream_rig(request.param, tmp_path, real_redis, redis_url, strategies_dir) as make:
        yield make


def test_steady_ticks_make_no_trades_poll_and_reconciliation_agrees(
    streamed: Callable[..., Streamed],
) -> None:
    s = streamed(EVERY_TICK, mined_after_s=0.05, confirmed_after_s=0.15)
    s.tick_until(s.caught_up, "user channel connected, fills caught up once")
    polls_before = s.rt.user_stream.polls
    s.counts.reset()
    for _ in range(12):
        run_tick(s.rt)
        time.sleep(0.05)
    s.pause()
    unconfirmed = s.rt.store.keys.unconfirmed_fills
    s.tick_until(lambda: s.rt.client.scard(unconfirmed) == 0, "every fill confirmed")
    assert s.counts.get(TRADES) == 0, s.counts.snapshot()  # zero polls in steady state
    assert s.rt.user_stream.polls == polls_before
    section = status_of(s)
    assert section["user_stream"] == "connected" and section["trade_polls"] == polls_before
    assert s.rt.user_stream.trade_events > 0 and s.rt.counters.fills_applied > 0
    assert s.counts.get("POST /order") + s.counts.get("POST /orders") > 0
    repairs = s.reconcile()
    assert set(repairs) == {"fills_checked"}, repairs  # /data/trades agrees with the stream
    fills = s.venue_fills()
    for market, size in fills.items():
        pos = s.rt.store.position(market)
        assert pos.up_shares == size
    recorded = list(s.rt.client.scan_iter(s.rt.store.keys.fill("*")))
    venue, _ = s.venue.fills_since(None)
    assert len(recorded) == len(venue)  # each fill recorded once


def test_failed_trade_after_matched_leaves_the_position_as_if_it_never_happened(
    streamed: Callable[..., Streamed],
) -> None:
    s = streamed(ALWAYS_BUY, mined_after_s=0.5, confirmed_after_s=4.0)
    s.pause()
    s.tick_until(s.caught_up, "user channel connected")
    s.faults.fail_trades(1000)  # every trade from now on: MATCHED -> RETRYING -> FAILED
    s.pause(False)
    markets = [w.market for w in s.rt.store.windows()]

    def matched() -> bool:
        return any(s.rt.store.position(m).up_shares > 0 for m in markets)

    s.tick_until(matched, "a MATCHED fill counted in a position")
    counted = [m for m in markets if s.rt.store.position(m).up_shares > 0]
    unconfirmed = s.rt.store.keys.unconfirmed_fills
    assert s.rt.client.scard(unconfirmed) > 0  # counted, but not confirmed
    s.pause()
    s.tick_until(lambda: s.rt.client.scard(unconfirmed) == 0, "every trade FAILED")
    for market in counted:
        assert untouched(s.rt.store.position(market))
        for order in s.rt.store.market_orders(market):
            assert order.filled == 0
    reversed_ = s.rt.counters.fills_reversed
    assert reversed_ >= len(counted)
    audit = [e for e in read_stream(s.rt.client, s.rt.store.keys) if e.command == "fill_reversed"]
    assert len(audit) == reversed_ == status_of(s)["fills_reversed"]
    repairs = s.reconcile()  # /data/trades says FAILED too: nothing left to repair
    assert set(repairs) == {"fills_checked"}, repairs
    s.rt.user_stream.caught_up_connects = -1  # a catch-up poll sees the FAILED trades
    run_tick(s.rt)
    assert all(untouched(s.rt.store.position(m)) for m in counted)


def test_dropped_user_channel_falls_back_to_polls_and_counts_no_fill_twice(
    streamed: Callable[..., Streamed],
) -> None:
    s = streamed(EVERY_TICK, mined_after_s=0.05, confirmed_after_s=0.15)
    s.tick_until(s.caught_up, "user channel connected")
    for _ in range(3):
        run_tick(s.rt)
    polls = s.rt.user_stream.polls
    user = s.rt.feeds.user if s.rt.feeds is not None else None
    assert user is not None
    drops_until = time.monotonic() + 1.0
    while time.monotonic() < drops_until:  # down, up, down...: trades happen meanwhile
        s.faults.drop()
        run_tick(s.rt)
        time.sleep(0.02)
    assert s.rt.user_stream.polls > polls  # /data/trades while the stream was down
    s.pause()
    s.tick_until(s.caught_up, "user channel back, caught up")
    run_tick(s.rt)
    fills = s.venue_fills()
    assert fills, "nothing traded"
    for market, size in fills.items():
        assert s.rt.store.position(market).up_shares == size  # every fill, none twice
    repairs = s.reconcile()
    assert not {"fills_repaired", "fills_reversed", "orders_adopted"} & set(repairs), repairs
    for market in fills:
        pos = s.rt.store.position(market)
        assert pos.up_shares == fills[market]
        orders = s.rt.store.market_orders(market)
        assert sum((o.filled for o in orders), Decimal(0)) == pos.up_shares


def test_silent_user_channel_is_reopened_and_caught_up_no_fill_lost(
    streamed: Callable[..., Streamed],
) -> None:
    """The venue keeps the connection open but sends nothing (trades meanwhile are never
    sent, as in a real outage): the client's silence timeout reopens it and the runner's
    catch-up poll finds what the stream never said; trades of ours the channel never
    reported (a silence shorter than the timeout) make the runner poll too."""
    s = streamed(EVERY_TICK, silence_timeout_s=0.5, mined_after_s=0.05, confirmed_after_s=0.15)
    s.rt.user_stream.trade_grace_s = 1.0
    s.tick_until(s.caught_up, "user channel connected")
    user = s.rt.feeds.user if s.rt.feeds is not None else None
    assert user is not None
    connects, polls = user.connects, s.rt.user_stream.polls
    s.faults.silent = True
    s.tick_until(lambda: user.connects > connects + 1, "reopened after the silence")
    s.faults.silent = False
    s.pause()

    def complete() -> bool:
        fills = s.venue_fills()
        return all(s.rt.store.position(m).up_shares == size for m, size in fills.items())

    s.tick_until(complete, "every venue fill in Redis")
    assert s.rt.user_stream.polls > polls
    for _ in range(3):
        run_tick(s.rt)
    fills = s.venue_fills()
    assert fills, "nothing traded"
    for market, size in fills.items():
        assert s.rt.store.position(market).up_shares == size  # nothing lost, nothing twice


def test_a_trade_of_ours_the_channel_never_reports_makes_the_runner_poll(
    streamed: Callable[..., Streamed],
) -> None:
    """A short silence (well under the client's 30 s silence timeout: the connection stays
    up) loses the trade events of that time; the venue named those trades when it answered
    our orders, so the runner polls once they are overdue."""
    s = streamed(EVERY_TICK, mined_after_s=0.05, confirmed_after_s=0.15)
    s.rt.user_stream.trade_grace_s = 1.0
    s.tick_until(s.caught_up, "user channel connected")
    user = s.rt.feeds.user if s.rt.feeds is not None else None
    assert user is not None
    connects, polls = user.connects, s.rt.user_stream.polls
    s.faults.silent = True
    for _ in range(3):  # orders placed and matched while the channel says nothing
        run_tick(s.rt)
    wait_for("a trade's end lost to the silence", lambda: s.faults.final_trades_withheld > 0)
    s.faults.silent = False
    s.pause()
    s.tick_until(lambda: s.rt.user_stream.missed > 0, "overdue trades noticed")
    assert user.connects == connects  # the same connection all along
    assert s.rt.user_stream.polls > polls  # the connection never went down: the gap did it
    run_tick(s.rt)
    for market, size in s.venue_fills().items():
        assert s.rt.store.position(market).up_shares == size  # nothing lost, nothing twice


def test_stream_fill_of_an_order_redis_does_not_know_adopts_it(
    streamed: Callable[..., Streamed],
) -> None:
    s = streamed(EVERY_TICK, mined_after_s=0.05, confirmed_after_s=0.15)
    s.pause()
    s.tick_until(s.caught_up, "user channel connected")
    s.counts.reset()
    window = next(w for w in s.rt.store.windows() if w.status == "open" and w.asset == "btc")
    book = s.venue.books([window.up_token])[window.up_token]
    assert book.best_ask is not None
    request = OrderRequest("outside", window.up_token, "BUY", book.best_ask, Decimal(5), "FAK")
    placed = s.venue.place(request)  # placed behind the runner's back: Redis has no record
    assert placed.success
    coid = adopted_client_order_id("default", placed.order_id)
    s.tick_until(lambda: s.rt.store.order(coid) is not None, "order adopted from its stream fill")
    s.tick_until(lambda: s.rt.store.position(window.market).up_shares > 0, "its fill applied")
    assert s.counts.get(TRADES) == 0  # learnt from the stream, not from a poll
    order = s.rt.store.order(coid)
    assert order is not None and order.strategy == "(adopted)"
    assert order.filled == s.rt.store.position(window.market).up_shares
