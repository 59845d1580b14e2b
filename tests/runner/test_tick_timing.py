"""Missed ticks as the runner counts them (runner.tick_timing.TickGaps, status `tick_gaps`)."""

from __future__ import annotations

import pytest

from runner.tick_timing import TickGaps, missed_between


@pytest.mark.parametrize(
    ("gap", "missed"),
    [(0.5, 0), (1.0, 0), (1.99, 0), (2.0, 1), (2.99, 1), (3.0, 2), (10.5, 9)],
)
def test_a_late_tick_is_not_a_missed_one(gap: float, missed: int) -> None:
    assert missed_between(gap * 0.2, 0.2) == missed


def test_gaps_count_missed_ticks_and_the_longest_gap() -> None:
    gaps = TickGaps()
    assert gaps.started(1, 100.0, 0.5) == 0  # the first tick has no gap
    assert gaps.started(2, 100.5, 0.5) == 0
    assert gaps.started(3, 101.9, 0.5) == 1  # 1.4 s: the tick due at 101.0 missed, 101.5 late
    assert gaps.started(4, 103.6, 0.5) == 2  # 1.7 s
    assert gaps.started(5, 104.1, 0.5) == 0
    record = gaps.to_record()
    assert (record.missed, record.most_missed, record.longest_gap_tick) == (3, 2, 4)
    assert record.longest_gap_s == pytest.approx(1.7)
