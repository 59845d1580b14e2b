"""Real processes for end-to-end runner tests: the paper venue and runner replicas."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
import redis

from control.bench.http_wait import wait_http
from state_store.keys import Keys
from state_store.private_redis import free_port
from state_store.store import Store


def neverblink(*args: str) -> list[str]:
    return [sys.executable, "-m", "control", *args]


class Proc:
    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.log = log
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        out = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        out.close()
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def terminate(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self.proc = None
        return code


def wait_ticking(
    client: redis.Redis, replica: str, proc: Proc, ticks: int, timeout: float = 60.0
) -> None:
    """Until the running process `proc` of `replica` reports `ticks` ticks in its heartbeat."""
    assert proc.proc is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = cast(dict[str, str], client.hgetall(Keys("default").runner(replica)))
        if raw.get("pid") == str(proc.proc.pid) and int(raw.get("tick") or 0) >= ticks:
            return
        time.sleep(0.05)
    raise AssertionError(f"{replica} did not reach tick {ticks} within {timeout} s")


def start_venue(tmp: Path, redis_url: str, window_seconds: int = 20) -> tuple[Proc, str]:
    port = free_port()
    args = neverblink(
        "venue", "--port", str(port), "--redis-url", redis_url, "--home", str(tmp / "venue-home"),
        "--window-seconds", str(window_seconds), "--seed", "3",
    )  # fmt: skip
    proc = Proc(args, tmp / "venue.log").start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/time")
    except BaseException:
        proc.kill()  # else it outlives the test and a later test's teardown reports it
        raise
    return proc, url


def runner_args(
    replica: str, home: Path, redis_url: str, venue_url: str, strategies: Path, tick: float
) -> list[str]:
    return neverblink(
        "run", "--replica", replica, "--home", str(home), "--redis-url", redis_url,
        "--venue-url", venue_url, "--strategies", str(strategies), "--tick", str(tick),
    )  # fmt: skip


def wait_for(what: str, check: Callable[[], bool], limit_s: float = 30.0) -> None:
    """Poll until `check()` holds; fail saying `what` when it never does."""
    give_up = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > give_up:
            pytest.fail(f"gave up waiting for: {what}")
        time.sleep(0.05)


def our_orders(store: Store) -> int:
    return sum(len(store.market_orders(m)) for m in store.markets())
