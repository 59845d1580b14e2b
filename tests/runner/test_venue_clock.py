"""A runner's reading of the venue clock: last value, wall time, measured rate."""

from __future__ import annotations

from runner.venue_clock import VenueClock


def test_rate_is_measured_once_a_second_has_passed() -> None:
    clock = VenueClock()
    assert clock.to_json() == {}
    clock.observe(1000.0, 50.0)
    clock.observe(1005.0, 50.5)  # half a wall second: too short to measure
    assert clock.rate() == 1.0
    clock.observe(1020.0, 52.0)
    assert clock.to_json() == {"venue_time": 1020.0, "wall_time": 52.0, "rate": 10.0}


def test_a_clock_that_goes_back_starts_a_new_measurement() -> None:
    clock = VenueClock()
    clock.observe(1000.0, 0.0)
    clock.observe(1100.0, 10.0)
    clock.observe(500.0, 11.0)  # another venue timeline (a venue restarted elsewhere)
    assert clock.rate() == 1.0 and clock.to_json()["venue_time"] == 500.0
    clock.observe(502.0, 13.0)
    assert clock.rate() == 1.0
