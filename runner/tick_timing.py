"""Cumulative tick-duration histogram a runner reports in its status (Prometheus-style buckets)."""

from __future__ import annotations

from dataclasses import dataclass, field

from state_store.status import TickSeconds

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class TickDurations:
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
