"""Event-driven ticks end to end: a paper venue on a socket, a runner on its market channel.

The runner's timer is an hour, so after its first tick only a book change can
start a tick. The venue's clock is frozen: the only changes are the test's
(`POST /paper/books/mark`). The probe strategy answers a marked book with an order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import redis

from control.bench.latency_bench import FROZEN, STRATEGY
from runner.loop import Loop
from tests.runner.stream_rig import Streamed, stream_rig


@pytest.fixture
def streamed(
    tmp_path: Path, real_redis: redis.Redis, redis_url: str, strategies_dir: Path
) -> Iterator[Callable[..., Streamed]]:
    with stream_rig("paper", tmp_path, real_redis, redis_url, strategies_dir) as make:
        yield make


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.01)


def hour_timer_runner(make: Callable[..., Streamed]) -> tuple[Streamed, Loop, threading.Thread]:
    """Ticked by hand until its books stream, then its own loop on a thread (timer: 1 h)."""
    s = make(STRATEGY, market=True, book_stale_s=3600.0, venue={"speed": FROZEN})
    s.tick_until(lambda: bool(s.rt.books.sources) and set(s.rt.books.sources.values())
                 == {"stream"}, "books from the stream")  # fmt: skip
    s.rt.config = replace(s.rt.config, tick_s=3600.0)
    loop = Loop(s.rt)
    ticked = s.rt.tick
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    wait_for(lambda: s.rt.tick > ticked, "the loop's first tick")
    return s, loop, thread


def mark(s: Streamed, token: str, size: int) -> None:
    httpx.post(
        s.url + "/paper/books/mark", json={"token_id": token, "size": size}
    ).raise_for_status()


def orders_posted(s: Streamed) -> int:
    return s.counts.get("POST /order") + s.counts.get("POST /orders")


def test_a_book_change_of_a_leased_market_starts_a_tick_that_places_the_order(
    streamed: Callable[..., Streamed],
) -> None:
    s, loop, thread = hour_timer_runner(streamed)
    try:
        window = next(w for w in s.rt.store.windows() if w.market in s.rt.leases)
        before = orders_posted(s)
        mark(s, window.up_token, 100_007)
        wait_for(lambda: orders_posted(s) > before, "the order answering the change")
        assert s.rt.waker.stats.event_ticks >= 1
        assert s.rt.counters.tick_gaps.missed == 0  # event ticks are not missed ticks
    finally:
        loop.stop.set()
        thread.join(30)


def test_with_timer_ticks_a_book_change_starts_no_tick(
    streamed: Callable[..., Streamed],
) -> None:
    s, loop, thread = hour_timer_runner(streamed)
    s.rt.waker.enabled = False  # --timer-ticks
    try:
        ticks, before = s.rt.tick, orders_posted(s)
        ignored = s.rt.waker.stats.ignored
        window = next(w for w in s.rt.store.windows() if w.market in s.rt.leases)
        mark(s, window.up_token, 100_008)
        wait_for(lambda: s.rt.waker.stats.ignored > ignored, "the change reaching the runner")
        assert not s.rt.waker.wait(0.0)  # nothing pending: the change was ignored
        assert s.rt.tick == ticks and orders_posted(s) == before
        assert s.rt.waker.stats.event_ticks == 0
    finally:
        loop.stop.set()
        thread.join(30)
