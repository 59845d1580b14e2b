"""How long ticks take and how regularly they start, as a runner reports them in its status."""

from __future__ import annotations

from dataclasses import dataclass, field

from state_store.status import TickGapsRecord, TickSeconds

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class TickDurations:
    """Cumulative tick-duration histogram (Prometheus-style buckets)."""

    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: int = 0
    sum_s: float = 0.0
    last_s: float = 0.0

    def observe(self, seconds: float) -> None:
        self.total += 1
        self.sum_s += seconds
        self.last_s = seconds
        for i, upper in enumerate(BUCKETS):
            if seconds <= upper:
                self.counts[i] += 1

    def to_record(self) -> TickSeconds:
        """Cumulative counts per upper bound (`le`), as Prometheus histograms count."""
        return TickSeconds(
            buckets=list(zip(BUCKETS, self.counts, strict=True)),
            count=self.total,
            sum=round(self.sum_s, 6),
            last=round(self.last_s, 6),
        )


def missed_between(gap_s: float, period_s: float) -> int:
    """Ticks missed between two tick starts `gap_s` apart: the whole tick periods in which
    no tick started, the last period's tick counting as late, not missed."""
    return max(0, int(gap_s / period_s) - 1)


@dataclass
class TickGaps:
    """Missed ticks, from the (monotonic) time each tick starts."""

    last_start: float | None = None
    last_gap_s: float = 0.0
    missed: int = 0
    most_missed: int = 0
    longest_gap_s: float = 0.0
    longest_gap_tick: int = 0

    def started(self, tick: int, at: float, period_s: float) -> int:
        """Tick `tick` starts at `at` (time.monotonic()), the loop's period being `period_s`:
        how many ticks were missed since the previous one started."""
        last, self.last_start = self.last_start, at
        if last is None:
            return 0
        gap = self.last_gap_s = at - last
        missed = missed_between(gap, period_s)
        self.missed += missed
        self.most_missed = max(self.most_missed, missed)
        if gap > self.longest_gap_s:
            self.longest_gap_s, self.longest_gap_tick = gap, tick
        return missed

    def to_record(self) -> TickGapsRecord:
        return TickGapsRecord(
            missed=self.missed,
            most_missed=self.most_missed,
            longest_gap_s=round(self.longest_gap_s, 6),
            longest_gap_tick=self.longest_gap_tick,
        )
