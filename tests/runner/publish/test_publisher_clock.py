"""The publisher loop's clock: with nothing due it sleeps (the loop must not spin)."""

from __future__ import annotations

import time

from runner.publish.publisher import PublishOptions, _Clock


def test_with_nothing_due_the_loop_waits_until_the_next_control_read() -> None:
    options = PublishOptions(control_poll=0.25, rescan=30.0)
    clock = _Clock(options)
    now = time.monotonic()
    clock.control = now + options.control_poll
    clock.after("published", now)
    assert not clock.retry_due(now)
    assert clock.wait() > 0  # was always 0: a busy loop holding the GIL in a runner


def test_a_held_tree_is_retried_with_backoff() -> None:
    clock = _Clock(PublishOptions(quiet=0.05))
    now = time.monotonic()
    clock.after("hold", now)
    first = clock.retry
    clock.after("hold", now)
    assert first is not None and clock.retry is not None and clock.retry > first
    assert clock.retry_due(clock.retry)
