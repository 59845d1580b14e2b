"""What a tick started by a stream change (`runner.wake`) takes from an earlier tick.

The venue's clock and its list of windows need not be asked again on every
change: a window opens or closes on the timer's scale, not the stream's. So a
tick a change started reads the venue's time from the last reading
(`VenueClock.estimate`) and reuses the last list of windows, as long as they
are younger than one timer period; a timer tick, or any tick once they are
that old (changes may keep a runner ticking without the timer ever firing),
asks the venue. Everything else (leases, fills, books, orders) runs in every
tick alike; the status is written at least once a period (`status_due`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from exchange.types import MarketWindow
from runner.runtime import Runtime


def reusable(rt: Runtime, taken_at: float | None) -> bool:
    """An event tick may reuse what was read at `taken_at` (monotonic)."""
    return (
        rt.waker.by_event
        and taken_at is not None
        and time.monotonic() - taken_at < rt.config.tick_s
    )


def venue_now(rt: Runtime) -> float:
    """The venue's time: asked, or estimated from a reading less than a period old."""
    estimate = rt.venue_clock.estimate(time.time())
    if estimate is not None and reusable(rt, rt.event_reads.clock_at):
        return estimate
    now = rt.venue.server_time()
    rt.venue_clock.observe(now, time.time())
    rt.event_reads.clock_at = time.monotonic()
    return now


def listed_windows(rt: Runtime) -> list[MarketWindow]:
    """The venue's windows: listed, or the listing of less than a period ago."""
    reads = rt.event_reads
    if reads.windows is not None and reusable(rt, reads.windows_at):
        return reads.windows
    reads.windows = rt.venue.list_windows()
    reads.windows_at = time.monotonic()
    return reads.windows


def status_due(rt: Runtime, reloads: Sequence[object]) -> bool:
    """Write status (file and heartbeat) this tick: every timer tick, a tick that reloaded
    code, and an event tick when the last status is a period old."""
    return not reusable(rt, rt.event_reads.status_at) or bool(reloads)


def status_written(rt: Runtime) -> None:
    rt.event_reads.status_at = time.monotonic()
