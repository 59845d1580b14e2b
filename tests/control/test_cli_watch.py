"""`neverblink watch` as a process: publishes, pings systemd, stops on SIGTERM, frees the lease."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import redis

from state_store.keys import Keys
from tests.runner.publish.helpers import generation, strategy, wait_for, write_all

KEYS = Keys("default")


def test_watch_publishes_notifies_and_stops_cleanly(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis
) -> None:
    strategies = tmp_path / "watched"
    strategies.mkdir()
    sources = {"a.py": strategy("v1")}
    write_all(strategies, sources)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(30)
    args = [
        sys.executable, "-m", "control", "watch", "--home", str(tmp_path / "home"),
        "--redis-url", redis_url, "--strategies", str(strategies),
    ]  # fmt: skip
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock")}
    with open(tmp_path / "watch.log", "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        gen = generation(strategies, sources)
        wait_for(lambda: real_redis.hget(KEYS.code, "generation") == gen, "the first publish")
        assert real_redis.get(KEYS.watcher)
        messages = [notify.recv(256).decode() for _ in range(2)]
        assert messages == ["READY=1\nWATCHDOG=1", "WATCHDOG=1"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notify.close()
    assert real_redis.get(KEYS.watcher) is None  # a runner's in-process publisher may take over
    assert (tmp_path / "home" / "code.json").exists()
