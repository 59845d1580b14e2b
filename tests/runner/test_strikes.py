"""Strikes: each window's start price taken once from the price stream, kept in Redis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from runner.strikes import NoStrike, Strike, choose_strike
from state_store.models import WindowStatus
from tests.runner.strategy_sources import RAISES
from tests.runner.stream_rig import Streamed, stream_rig

START = 1_000.0


def test_the_point_stamped_at_the_start_is_the_strike() -> None:
    points = [(998.0, "1"), (999.0, "2"), (1000.0, "3"), (1001.0, "4")]
    assert choose_strike(points, START, now=1001.0) == Strike("3", 1000.0)


def test_else_the_last_point_before_the_start_within_the_tolerance() -> None:
    points = [(998.0, "1"), (999.5, "2"), (1000.4, "3")]
    assert choose_strike(points, START, now=1000.5) == Strike("2", 999.5)


def test_undecided_until_a_point_at_or_after_the_start_or_the_tolerance_passed() -> None:
    points = [(999.0, "2")]
    assert choose_strike(points, START, now=1000.5) is None  # the 1000.0 point may still come
    assert choose_strike(points, START, now=1002.0) == Strike("2", 999.0)  # the stream went quiet


def test_no_strike_when_the_stream_missed_the_start() -> None:
    late = choose_strike([(1003.0, "5")], START, now=1003.0)
    assert isinstance(late, NoStrike) and "first one after it is stamped 1003.000" in late.reason
    stale = choose_strike([(990.0, "1"), (1001.0, "5")], START, now=1001.0)
    assert isinstance(stale, NoStrike)  # a price 10 s old is not the price at the start
    silent = choose_strike([], START, now=1010.0)
    assert isinstance(silent, NoStrike) and "no reference price" in silent.reason


@pytest.fixture
def streamed(
    tmp_path: Path, real_redis: redis.Redis, redis_url: str, strategies_dir: Path
) -> Iterator[Callable[..., Streamed]]:
    with stream_rig("paper", tmp_path, real_redis, redis_url, strategies_dir) as make:
        yield make


def test_each_window_strike_equals_the_reference_price_at_its_start(
    streamed: Callable[..., Streamed],
) -> None:
    """A fast venue clock (4 venue s per second, 20 s windows): every window that started
    while the price stream ran has the venue's reference price at its start as its strike;
    one that started before says why it has none. (At 10x a loaded machine's stream can
    miss the 2 venue seconds, 0.2 s, before a start: the strike is then reported missing.)"""
    s = streamed(RAISES, user=False, prices=True, venue={"speed": 4.0, "window_seconds": 20})
    prices = s.rt.feeds.prices if s.rt.feeds is not None else None
    assert prices is not None
    s.tick_until(lambda: prices.last("btc") is not None, "first price")
    first_price_ts = min(p.ts for a in ("btc", "eth") for p in prices.history(a))
    began = s.venue.server_time()
    s.tick_until(lambda: s.venue.server_time() > began + 65, "several windows", timeout=60)
    time.sleep(0.75)  # 3 venue seconds: the last window's start is settled either way
    s.tick_until(lambda: True, "one more tick")
    engine = s.app.state.engine
    windows = s.rt.store.windows()
    started = [w for w in windows if w.start_ts > first_price_ts]
    assert len(started) >= 6  # 5m (20 s) and 15m (60 s) windows of btc and eth
    for window in started:
        assert window.strike_source == "stream", window
        assert Decimal(window.start_price) == Decimal(
            engine.prices.quote(window.asset, window.start_ts)
        )
        assert window.strike_ts == window.start_ts and window.strike_missing == ""
    before = [w for w in windows if w.start_ts < first_price_ts - 2]
    for window in before:
        assert window.start_price == "" and window.strike_missing, window
    history: Any = s.rt.client.xrange(s.rt.store.keys.prices("btc"))
    assert len(history) >= 60  # one point per venue second, in Redis for every replica
    settled = [w for w in windows if w.status == WindowStatus.SETTLED and w in started]
    assert all(w.start_price for w in settled)
