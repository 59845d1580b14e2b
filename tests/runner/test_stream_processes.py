"""`neverblink run --market-ws --user-ws --price-ws` against `neverblink venue`, as real
processes: books from the market channel with no /book or /books request and fills from the
user channel with no /data/trades poll in steady state, strikes from the price stream equal
to the venue's own start prices."""

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
BOOK_POLLS = ("GET /book", "POST /books")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def runner_hash(client: redis.Redis) -> dict[str, str]:
    fields: dict[str, str] = client.hgetall(Keys("default").runner("r1"))  # type: ignore[assignment]
    return fields


def books_of(client: redis.Redis) -> dict[str, Any]:
    books: dict[str, Any] = json.loads(runner_hash(client).get("books") or "{}")
    return books


def all_streamed(client: redis.Redis) -> bool:
    books = books_of(client)
    fresh = books.get("market_stream") == "connected" and books.get("stream", 0) > 0
    return fresh and books.get("rest") == books.get("stale") == 0


def book_polls(url: str) -> int:
    requests = get_json(url + "/paper/stats")["requests"]
    return sum(requests.get(route, 0) for route in BOOK_POLLS)


def steady_book_polls(url: str, client: redis.Redis, stretch_s: float = 2.0) -> int:
    """/book and /books requests over `stretch_s` with every book streamed and no window
    opening meanwhile (a window's first tick has no snapshot yet: such a stretch is retried)."""
    for _ in range(8):
        wait_for("every book from the market channel", lambda: all_streamed(client), 60)
        markets, before = runner_hash(client).get("markets"), book_polls(url)
        time.sleep(stretch_s)
        if runner_hash(client).get("markets") == markets and all_streamed(client):
            return book_polls(url) - before
    pytest.fail("the leased windows changed in every stretch")


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
        "--window-seconds", "60", "--speed", "5", "--seed", "3",
    ), tmp_path / "venue.log")  # fmt: skip
    url, ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    args = runner_args("r1", tmp_path / "home", redis_url, url, strategies, 0.2)
    args += ["--user-ws", ws + "/ws/user", "--price-ws", ws + "/ws/live-data"]
    args += ["--market-ws", ws + "/ws/market"]
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
        assert steady_book_polls(url, real_redis) == 0  # books from the market channel only

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
