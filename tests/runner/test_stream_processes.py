"""`neverblink run --user-ws --price-ws` against `neverblink venue`, as real processes: fills
from the user channel with no /data/trades poll in steady state, strikes from the price
stream equal to the venue's own start prices."""

from __future__ import annotations

import json
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis

from control.bench.http_wait import wait_http
from exchange.client import ClobClient
from state_store.keys import Keys
from state_store.private_redis import free_port
from state_store.store import Store
from tests.runner.processes import Proc, neverblink, runner_args, wait_for
from tests.runner.test_chaos_kill import EVERY_SECOND

TRADES = "GET /data/trades"


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def runner_hash(client: redis.Redis) -> dict[str, str]:
    fields: dict[str, str] = client.hgetall(Keys("default").runner("r1"))  # type: ignore[assignment]
    return fields


@pytest.mark.processes
@pytest.mark.timeout(180)
def test_a_streaming_runner_process(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "every_second.py").write_text(EVERY_SECOND)
    port = free_port()
    venue = Proc(neverblink(
        "venue", "--port", str(port), "--redis-url", redis_url, "--home", str(tmp_path / "v"),
        "--window-seconds", "20", "--speed", "5", "--seed", "3",
    ), tmp_path / "venue.log")  # fmt: skip
    url, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    args = runner_args("r1", tmp_path / "home", redis_url, url, strategies, 0.2)
    args += ["--user-ws", ws + "/ws/user", "--price-ws", ws + "/ws/live-data"]
    runner = Proc(args, tmp_path / "runner.log")
    store = Store(real_redis, "default")
    try:
        venue.start()
        wait_http(url + "/time")
        runner.start()
        wait_for("fills", lambda: int(runner_hash(real_redis).get("fills_applied") or 0) > 0, 60)
        wait_for("user channel connected and caught up",
                 lambda: runner_hash(real_redis).get("user_stream") == "connected", 60)  # fmt: skip
        polls = get_json(url + "/paper/stats")["requests"].get(TRADES, 0)
        time.sleep(3.0)  # 15 ticks, 15 venue seconds of trading
        requests = get_json(url + "/paper/stats")["requests"]
        assert requests.get(TRADES, 0) == polls, requests
        status = runner_hash(real_redis)
        assert status["user_stream"] == "connected" and int(status["fills_reversed"]) == 0

        def struck() -> bool:
            return any(w.strike_source == "stream" for w in store.windows())

        wait_for("a strike from the price stream", struck, 60)
        client = ClobClient(url)
        try:
            venue_windows = {w.slug: w for w in client.list_windows()}
        finally:
            client.close()
        compared = 0
        for window in store.windows():
            if window.strike_source == "stream" and window.market in venue_windows:
                expected = Decimal(venue_windows[window.market].start_price or "nan")
                assert Decimal(window.start_price) == expected, (window, expected)
                compared += 1
        assert compared
        assert runner.terminate() == 0
    finally:
        runner.kill()
        venue.kill()
