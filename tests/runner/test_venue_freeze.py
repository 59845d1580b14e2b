"""A venue that stops answering (SIGSTOP, issue 13 case 7): the runner keeps ticking, places no
order, says "venue unresponsive since T" with the current error, and trades again after SIGCONT."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from state_store.files import read_json
from state_store.store import Store
from tests.runner.processes import Proc, our_orders, runner_args, start_venue, wait_for
from tests.runner.test_chaos_kill import EVERY_SECOND

TICK_S = 0.2
FREEZE_S = 6.0  # within the 4-10 s of the reproduced case; longer than the lease TTL too


def section(home: Path) -> dict[str, Any]:
    status = read_json(home / "status.json")
    runners = status.get("runners", {}) if isinstance(status, dict) else {}
    found = runners.get("r1", {})
    return found if isinstance(found, dict) else {}


@pytest.mark.chaos
@pytest.mark.timeout(180)
def test_a_frozen_venue_does_not_stop_the_loop(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "every_second.py").write_text(EVERY_SECOND)  # a new order every venue second
    venue, venue_url = start_venue(tmp_path, redis_url, window_seconds=60)
    home = tmp_path / "home"
    runner = Proc(runner_args("r1", home, redis_url, venue_url, strategies, TICK_S),
                  tmp_path / "runner.log")  # fmt: skip
    store = Store(real_redis, "default")
    assert venue.proc is not None
    pid = venue.proc.pid
    try:
        runner.start()
        wait_for("the runner trades", lambda: section(home).get("orders_created", 0) >= 2)

        os.kill(pid, signal.SIGSTOP)
        wait_for("status says the venue is unresponsive",
                 lambda: section(home).get("venue_unresponsive_since") is not None)  # fmt: skip
        frozen = section(home)
        orders_frozen = our_orders(store)
        time.sleep(FREEZE_S)
        later = section(home)
        assert later["tick"] >= frozen["tick"] + 3, "the loop stopped ticking during the freeze"
        assert later["last_tick_at"] > frozen["last_tick_at"]
        assert later["heartbeat"] > frozen["heartbeat"]
        assert later["venue_unresponsive_since"] == frozen["venue_unresponsive_since"]
        assert later["venue_unresponsive_since"] <= later["last_tick_at"]
        assert "timeout" in later["venue_error"].lower() or "no answer" in later["venue_error"]
        assert later["orders_created"] == frozen["orders_created"]
        assert our_orders(store) == orders_frozen, "an order was created during the freeze"
        assert later["operational_error"] == ""  # a silent venue is temporary, not a halt

        os.kill(pid, signal.SIGCONT)
        wait_for("the venue is answering again",
                 lambda: section(home).get("venue_unresponsive_since") is None)  # fmt: skip
        assert section(home)["venue_error"] == ""
        wait_for("trading resumes", lambda: our_orders(store) > orders_frozen)
        assert runner.terminate() == 0
    finally:
        os.kill(pid, signal.SIGCONT)
        runner.kill()
        venue.kill()
    log = (tmp_path / "runner.log").read_text()
    assert "venue unresponsive" in log and "venue answers again" in log
