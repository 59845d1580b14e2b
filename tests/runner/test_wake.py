"""The Waker (runner.wake): which changes wake the loop, coalescing, the minimum gap, the timer."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import pytest

from runner.loop import Loop
from runner.tick import run_tick
from runner.wake import Waker


@dataclass(frozen=True)
class Point:
    asset: str


class Clock:
    def __init__(self) -> None:
        self.t = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.t += seconds


def waker(gap_s: float = 0.05, enabled: bool = True) -> tuple[Waker, Clock]:
    clock = Clock()
    w = Waker(gap_s, enabled=enabled, clock=clock, sleep=clock.sleep)
    w.watch({"up1", "down1"}, {"btc"})
    return w, clock


def test_a_change_of_a_watched_token_or_asset_wakes() -> None:
    w, _ = waker(gap_s=0)
    assert not w.wait(0)
    w.on_book("up1")
    assert w.wait(0)
    w.tick_started(by_event=True)
    w.on_price(Point("btc"))
    assert w.wait(0)
    assert w.stats.wakes == 2


def test_changes_of_other_markets_do_not_wake() -> None:
    w, _ = waker()
    w.on_book("someone-elses-token")
    w.on_price(Point("eth"))
    assert not w.wait(0)
    assert w.stats.ignored == 2 and w.stats.wakes == 0


def test_a_market_no_longer_leased_stops_waking() -> None:
    w, _ = waker()
    assert w.watch({"up2"}, {"eth"})  # the lease moved on
    assert not w.watch({"up2"}, {"eth"})  # the same set again: no change
    w.on_book("up1")
    w.on_price(Point("btc"))
    assert not w.wait(0)
    w.on_book("up2")
    assert w.wait(0)


def test_changes_before_a_tick_starts_make_one_tick() -> None:
    w, _ = waker(gap_s=0)
    for _ in range(5):
        w.on_book("up1")
    assert w.wait(0)
    w.tick_started(by_event=True)
    assert not w.wait(0)  # the five changes were all in that tick
    assert w.stats.wakes == 5 and w.stats.event_ticks == 1


def test_a_change_during_a_tick_wakes_the_next_one() -> None:
    w, _ = waker(gap_s=0)
    w.tick_started(by_event=False)
    w.on_book("down1")  # arrives while the tick runs
    assert w.wait(0)


def test_a_wake_waits_out_the_minimum_gap_since_the_last_tick_start() -> None:
    w, clock = waker(gap_s=0.05)
    w.tick_started(by_event=False)
    clock.t += 0.01
    w.on_book("up1")
    assert w.wait(1.0)
    assert clock.slept == [0.04]  # started 0.05 s after the previous tick, not at once


def test_a_wake_after_the_gap_starts_at_once() -> None:
    w, clock = waker(gap_s=0.05)
    w.tick_started(by_event=False)
    clock.t += 0.2
    w.on_book("up1")
    assert w.wait(1.0)
    assert clock.slept == []


def test_a_gap_longer_than_the_wait_leaves_the_wake_pending() -> None:
    w, _ = waker(gap_s=0.05)
    w.tick_started(by_event=False)
    w.on_book("up1")
    assert not w.wait(0.02)  # the timer slice ends first; the change is not lost
    assert w.wait(1.0)


def test_timer_ticks_only_ignores_every_change() -> None:
    w, _ = waker(enabled=False)
    w.on_book("up1")
    w.on_price(Point("btc"))
    assert not w.wait(0)
    assert w.stats.ignored == 2


def test_a_negative_gap_is_refused() -> None:
    with pytest.raises(ValueError):
        Waker(-0.001)


# -- the loop ---------------------------------------------------------------------
class CountingLoop(Loop):
    """The runner's loop around a stand-in tick: records which ticks an event started."""

    def __init__(self, rt: Any, max_ticks: int) -> None:
        super().__init__(rt, max_ticks=max_ticks)
        self.started: list[int] = []
        self.tick_done = threading.Event()

    def one_tick(self) -> None:
        self.rt.tick += 1
        self.started.append(self.rt.waker.stats.event_ticks)
        self.tick_done.set()

    def teardown(self) -> None:
        pass


def stub_runtime(w: Waker, tick_s: float, degraded: bool = False) -> Any:
    return SimpleNamespace(
        waker=w, tick=0, degraded=degraded, config=SimpleNamespace(tick_s=tick_s)
    )


def test_the_loop_ticks_on_a_change_long_before_its_timer() -> None:
    w = Waker(0.0)
    w.watch({"up1"}, set())
    loop = CountingLoop(stub_runtime(w, tick_s=3600.0), max_ticks=2)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    assert loop.tick_done.wait(10)  # the first tick runs at once
    w.on_book("up1")
    thread.join(30)  # the timer is an hour: only the change can start tick 2
    assert not thread.is_alive()
    assert loop.rt.tick == 2 and w.stats.event_ticks == 1 and w.stats.timer_ticks == 1


def test_the_loop_still_ticks_on_its_timer_when_the_streams_are_silent() -> None:
    w = Waker(0.0)
    w.watch({"up1"}, set())
    loop = CountingLoop(stub_runtime(w, tick_s=0.01), max_ticks=3)
    loop.run()
    assert w.stats.timer_ticks == 3 and w.stats.event_ticks == 0


def test_with_timer_ticks_a_change_does_not_start_a_tick() -> None:
    w = Waker(0.0, enabled=False)
    w.watch({"up1"}, set())
    loop = CountingLoop(stub_runtime(w, tick_s=3600.0), max_ticks=2)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    assert loop.tick_done.wait(10)
    w.on_book("up1")
    assert not w.wait(0.2)  # the change was ignored: nothing pending
    loop.stop.set()
    thread.join(10)
    assert loop.rt.tick == 1 and w.stats.event_ticks == 0


def test_in_degraded_mode_a_change_waits_for_the_timer() -> None:
    w = Waker(0.0)
    w.watch({"up1"}, set())
    loop = CountingLoop(stub_runtime(w, tick_s=3600.0, degraded=True), max_ticks=2)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    assert loop.tick_done.wait(10)
    w.on_book("up1")
    thread.join(0.5)  # not a timing check: whatever the wait, no tick may start
    assert thread.is_alive() and loop.rt.tick == 1
    loop.rt.degraded = False  # Redis is back: the pending change starts a tick
    thread.join(30)
    assert not thread.is_alive() and loop.rt.tick == 2 and w.stats.event_ticks == 1


# -- what an event tick takes from an earlier tick (runner.event_tick) -------------------
def hour_ticks(make_runtime: Any) -> Any:
    """A runtime whose timer period is an hour: whatever it read is a period young."""
    rt = make_runtime()
    rt.config = replace(rt.config, tick_s=3600.0)
    return rt


def asked(venue_app: Any) -> tuple[int, int]:
    counts = venue_app.state.request_counts
    return counts.get("GET /time"), counts.get("GET /markets")


def status_tick(rt: Any) -> int:
    section = json.loads(rt.settings.status_file.read_text())["runners"]["r1"]
    return int(section["tick"])


def test_an_event_tick_reuses_the_venue_time_windows_and_status_of_this_period(
    make_runtime: Any, venue_app: Any
) -> None:
    rt = hour_ticks(make_runtime)
    rt.waker.tick_started(by_event=False)
    run_tick(rt)
    first = asked(venue_app)
    assert all(first) and status_tick(rt) == 1
    rt.waker.tick_started(by_event=True)
    report = run_tick(rt)
    assert asked(venue_app) == first
    assert report.markets == len(rt.leases) > 0  # the same markets, leases renewed
    assert status_tick(rt) == 1  # written once a period
    rt.waker.tick_started(by_event=False)
    run_tick(rt)
    again = asked(venue_app)
    assert again[0] > first[0] and again[1] > first[1] and status_tick(rt) == 3


def test_an_event_tick_asks_again_once_its_readings_are_a_period_old(
    make_runtime: Any, venue_app: Any
) -> None:
    rt = hour_ticks(make_runtime)
    run_tick(rt)
    first = asked(venue_app)
    reads = rt.event_reads
    reads.clock_at = reads.windows_at = reads.status_at = time.monotonic() - 3600.0
    rt.waker.tick_started(by_event=True)  # changes keep coming: the timer never fires
    run_tick(rt)
    again = asked(venue_app)
    assert again[0] > first[0] and again[1] > first[1] and status_tick(rt) == 2


def test_the_first_tick_asks_the_venue_even_when_an_event_started_it(
    make_runtime: Any, venue_app: Any
) -> None:
    rt = hour_ticks(make_runtime)
    rt.waker.tick_started(by_event=True)
    run_tick(rt)
    assert asked(venue_app)[0] == 1 and status_tick(rt) == 1
