"""The venue's clock as a runner reads it, and how fast it runs against the wall clock.

Window times (`start_ts`, `end_ts`) are on the venue's clock, which is not the
wall clock: the paper venue of the demo runs 10x. A runner reads the venue's
time every tick; it publishes the last reading with the wall time it was taken
and the measured rate, so a reader (Mission Control, the dashboard) can tell
how much venue time is left in a window without asking the venue itself.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SPAN_S = 1.0  # wall seconds between two readings before a rate is measured


@dataclass
class VenueClock:
    first: tuple[float, float] | None = None  # (wall, venue) of the reference reading
    last: tuple[float, float] | None = None

    def observe(self, venue_now: float, wall_now: float) -> None:
        if self.first is None or self.last is None or venue_now < self.last[1]:
            self.first = (wall_now, venue_now)  # first reading, or the venue's clock went back
        self.last = (wall_now, venue_now)

    def rate(self) -> float:
        """Venue seconds per wall second since the reference reading (1.0 until measured)."""
        if self.first is None or self.last is None or self.last[0] - self.first[0] < MIN_SPAN_S:
            return 1.0
        return (self.last[1] - self.first[1]) / (self.last[0] - self.first[0])

    def estimate(self, wall_now: float) -> float | None:
        """The venue's time at `wall_now`, from the last reading and the measured rate;
        None before the first reading."""
        if self.last is None:
            return None
        wall, venue = self.last
        return venue + self.rate() * (wall_now - wall)

    def to_json(self) -> dict[str, float]:
        """`{venue_time, wall_time, rate}` of the last reading; {} before the first one."""
        if self.last is None:
            return {}
        wall, venue = self.last
        return {
            "venue_time": round(venue, 3),
            "wall_time": round(wall, 3),
            "rate": round(self.rate(), 4),
        }
