"""connect(): one configured client for every kind of Redis target."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from state_store.connection import (
    RETRIES,
    SentinelTarget,
    connect,
    describe_target,
    mask_url,
    parse_sentinel_url,
    redis_available,
)
from state_store.embedded import stop_embedded_redis
from state_store.redis_binary import find_redis_server
from state_store.settings import Settings
from tests.redis_process import RedisProcess, free_port


def settings_for(home: Path, redis_url: str | None) -> Settings:
    return Settings(home=home, redis_url=redis_url, bot="t", strategies=home / "strategies")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "h"
    yield home
    stop_embedded_redis(home)


def test_connect_to_a_redis_url(redis_url: str, tmp_path: Path) -> None:
    client = connect(settings_for(tmp_path, redis_url), client_name="nb-test")
    try:
        assert client.set("nb:{t}:k", "v") is True
        assert client.get("nb:{t}:k") == "v"  # decode_responses defaults to True
        assert client.client_getname() == "nb-test"
        assert client.connection_pool.connection_kwargs["retry"].get_retries() == RETRIES
    finally:
        client.close()
    raw = connect(settings_for(tmp_path, redis_url), decode_responses=False)
    try:
        assert raw.get("nb:{t}:k") == b"v"
    finally:
        raw.close()


def drop_blocked_client_then_push(redis_url: str, key: str) -> None:
    """Kill the connection blocked in BLPOP (as a failover or proxy would), then push."""
    helper = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            blocked = [c for c in helper.client_list() if c["cmd"] == "blpop"]
            if blocked:
                helper.client_kill_filter(_id=blocked[0]["id"])
                break
            time.sleep(0.01)
        time.sleep(0.2)
        helper.rpush(key, "x")
    finally:
        helper.close()


def test_a_connection_dropped_mid_command_is_retried(redis_url: str, tmp_path: Path) -> None:
    client = connect(settings_for(tmp_path, redis_url))
    key = "nb:{t}:queue"
    dropper = threading.Thread(target=drop_blocked_client_then_push, args=(redis_url, key))
    dropper.start()
    try:
        # BLPOP fails with "connection closed" half-way; the retry sends it again.
        assert client.blpop([key], timeout=3) == (key, "x")
    finally:
        dropper.join()
        client.close()


def test_connect_without_url_starts_the_embedded_redis(home: Path) -> None:
    settings = settings_for(home, None)
    assert describe_target(settings) == f"embedded redis at {home / 'redis' / 'redis.sock'}"
    client = connect(settings)
    try:
        assert client.ping() is True
        assert client.connection_pool.connection_kwargs["path"] == str(home / "redis/redis.sock")
    finally:
        client.close()


def test_unsupported_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unsupported Redis URL scheme 'http'.*\*\*\*"):
        connect(settings_for(tmp_path, "http://u:secret@localhost/"))


def test_redis_available_is_quick_and_never_raises(redis_url: str, tmp_path: Path) -> None:
    live = connect(settings_for(tmp_path, redis_url))
    dead = redis.Redis(port=free_port())
    missing = redis.Redis(unix_socket_path=str(tmp_path / "nothing.sock"))
    try:
        assert redis_available(live) is True
        started = time.monotonic()
        assert redis_available(dead) is False
        assert redis_available(missing) is False
        assert time.monotonic() - started < 2
        assert live.ping() is True  # the client's own pool is untouched
    finally:
        for client in (live, dead, missing):
            client.close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "redis+sentinel://s1:26379,s2:26380/mymaster",
            SentinelTarget(sentinels=(("s1", 26379), ("s2", 26380)), service_name="mymaster"),
        ),
        (
            "redis+sentinel://alice:p%40ss@s1,[::1]:5000/mymaster/3",
            SentinelTarget(
                sentinels=(("s1", 26379), ("::1", 5000)),
                service_name="mymaster",
                db=3,
                username="alice",
                password="p@ss",
            ),
        ),
        (
            "redis+sentinel://:pw@s1:1/svc?sentinel_password=sp",
            SentinelTarget(
                sentinels=(("s1", 1),), service_name="svc", password="pw", sentinel_password="sp"
            ),
        ),
    ],
)
def test_parse_sentinel_url(url: str, expected: SentinelTarget) -> None:
    assert parse_sentinel_url(url) == expected


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("redis+sentinel://s1:26379", "service_name"),
        ("redis+sentinel://s1:26379/", "service_name"),
        ("redis+sentinel://s1:26379/m/0/extra", "service_name"),
        ("redis+sentinel://s1:port/m", "port must be a number"),
        ("redis+sentinel://s1:70000/m", "out of range"),
        ("redis+sentinel://s1,,s2/m", "empty sentinel host"),
        ("redis+sentinel://s1/m/zero", "db must be a number"),
        ("redis+sentinel://s1/m?ssl=true", "unknown option"),
        ("redis://s1/m", "not a redis\\+sentinel"),
    ],
)
def test_parse_sentinel_url_errors(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_sentinel_url(url)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://user:secret@h:6380/0", "redis://user:***@h:6380/0"),
        ("redis://:secret@h/0", "redis://:***@h/0"),
        ("redis://h:6380/0", "redis://h:6380/0"),
        ("unix:///run/r.sock?db=1&password=secret", "unix:///run/r.sock?db=1&password=***"),
        (
            "redis+sentinel://u:secret@a:1,b:2/m?sentinel_password=x",
            "redis+sentinel://u:***@a:1,b:2/m?sentinel_password=***",
        ),
    ],
)
def test_passwords_are_masked_in_messages(url: str, masked: str, tmp_path: Path) -> None:
    assert mask_url(url) == masked
    assert describe_target(settings_for(tmp_path, url)) == masked


class SentinelProcess:
    """A private `redis-server --sentinel` watching one master (never 6379 / 26379)."""

    def __init__(self, directory: Path, master_port: int) -> None:
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "sentinel.conf"  # sentinel rewrites it: must be writable
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {directory}\n"
            f"logfile {directory / 'sentinel.log'}\n"
            f"sentinel monitor nbmaster 127.0.0.1 {master_port} 1\n"
            "sentinel down-after-milliseconds nbmaster 60000\n"
        )
        self.proc = subprocess.Popen(
            [find_redis_server(), str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while time.monotonic() < deadline:
                try:
                    client.sentinel_get_master_addr_by_name("nbmaster")
                    return
                except redis.ConnectionError:
                    time.sleep(0.02)
        finally:
            client.close()
        self.stop()
        raise RuntimeError("sentinel did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[tuple[SentinelProcess, RedisProcess]]:
    master = RedisProcess(tmp_path / "master").start()
    watcher = None
    try:
        watcher = SentinelProcess(tmp_path / "sentinel", master.port)
        yield watcher, master
    finally:
        if watcher is not None:
            watcher.stop()
        master.stop()


def test_connect_through_a_real_sentinel(
    sentinel: tuple[SentinelProcess, RedisProcess], tmp_path: Path
) -> None:
    watcher, master = sentinel
    # the first sentinel is down: discovery moves on to the next one at once
    url = f"redis+sentinel://127.0.0.1:{free_port()},127.0.0.1:{watcher.port}/nbmaster/2"
    started = time.monotonic()
    client = connect(settings_for(tmp_path, url))
    try:
        assert client.set("nb:{t}:k", "v") is True
        assert time.monotonic() - started < 3
        direct = redis.Redis(port=master.port, db=2, decode_responses=True)
        assert direct.get("nb:{t}:k") == "v"
        direct.close()
        assert redis_available(client) is True
    finally:
        client.close()
