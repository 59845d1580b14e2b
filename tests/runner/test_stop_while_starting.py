"""A runner told to stop while it is still starting exits cleanly, before its first tick."""

from __future__ import annotations

import time
from pathlib import Path

import redis

from tests.runner.processes import Proc, runner_args, start_venue

# About a second of work at import: validation and loading take a while.
SLOW_TO_IMPORT = """
TOTAL = sum(range(20_000_000))


def decide(view):
    return []
"""


def wait_for_line(log: Path, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never appeared in {log}")


def test_sigterm_during_start_exits_zero_without_ticking(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "slow.py").write_text(SLOW_TO_IMPORT)
    venue, venue_url = start_venue(tmp_path, redis_url)
    log = tmp_path / "runner.log"
    args = runner_args("r1", tmp_path / "home", redis_url, venue_url, strategies, tick=0.1)
    try:
        runner = Proc(args, log).start()
        wait_for_line(log, "runner r1 starting")
        assert runner.terminate(timeout=60) == 0, log.read_text()
        assert not real_redis.exists("nb:{default}:runner:r1"), "it ticked after SIGTERM"
    finally:
        venue.kill()
