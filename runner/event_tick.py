"""What a tick started by a stream change (`runner.wake`) takes from the last timer tick.

Between timer ticks the venue's clock and its list of windows do not need
asking again: a window opens or closes on the timer's scale, not the
stream's. So a tick a change started reads the venue's time from the last
reading (`VenueClock.estimate`) and the windows the last timer tick listed;
every timer tick, and any tick without an earlier reading, asks the venue.
Everything else (leases, fills, books, status) runs in every tick alike.
"""

from __future__ import annotations

import time

from exchange.types import MarketWindow
from runner.runtime import Runtime


def venue_now(rt: Runtime) -> float:
    """The venue's time: asked on a timer tick, estimated on an event tick."""
    if rt.waker.by_event:
        estimate = rt.venue_clock.estimate(time.time())
        if estimate is not None:
            return estimate
    now = rt.venue.server_time()
    rt.venue_clock.observe(now, time.time())
    return now


def listed_windows(rt: Runtime) -> list[MarketWindow]:
    """The venue's windows: listed on a timer tick, the last listing on an event tick."""
    if rt.waker.by_event and rt.listed is not None:
        return rt.listed
    rt.listed = rt.venue.list_windows()
    return rt.listed
