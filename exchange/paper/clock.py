"""The venue clock: venue time runs `speed` times wall time from a fixed anchor.

`venue_now = anchor.venue + anchor.speed * (real_now - anchor.real)`. The
anchor is persisted with the venue's state, so a restart continues the same
timeline; restarting with another speed re-anchors at the current venue time
(time never jumps). The wall-time source is injectable: tests pass a
`ManualClock` and step it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

RealTime = Callable[[], float]


@dataclass(frozen=True)
class Anchor:
    real: float  # wall time at the anchor
    venue: float  # venue time at the anchor
    speed: float  # venue seconds per wall second

    def venue_time(self, real_now: float) -> float:
        return self.venue + self.speed * (real_now - self.real)

    def with_speed(self, speed: float, real_now: float) -> Anchor:
        """The same timeline from `real_now` on, at another speed."""
        if speed == self.speed:
            return self
        return Anchor(real=real_now, venue=self.venue_time(real_now), speed=speed)


class VenueClock:
    def __init__(self, anchor: Anchor, real_time: RealTime = time.time) -> None:
        if not (anchor.speed > 0 and math.isfinite(anchor.speed)):
            raise ValueError(f"speed must be a positive number, got {anchor.speed}")
        self.anchor = anchor
        self._real_time = real_time

    def now(self) -> float:
        return self.anchor.venue_time(self._real_time())

    def real_now(self) -> float:
        return self._real_time()


class ManualClock:
    """A wall-time source that only moves when told to (tests, replays)."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self.t += seconds
