"""Shared fixtures: a private redis-server per session, a clean database per test, and a
Sentinel group (master, replica, three sentinels) for the failover tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fakeredis
import pytest
import redis

from state_store.private_topology import SentinelGroup
from tests.redis_process import RedisProcess

#: sentinels call a master down after this long without an answer (failover-timeout: 4x,
#: state_store.private_topology); a failover takes ~2-3 s on loopback. At 500 ms a loaded
#: 2-core machine had sentinels fail a live master over too (spurious failovers: writes lost)
SENTINEL_DOWN_AFTER_MS = 1000


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under xdist (pyproject's addopts), files with tests marked chaos, browser or processes
    run one after another on one worker; every other test goes wherever a worker is free."""
    from tests.serial_scheduling import SerialFilesScheduling

    return SerialFilesScheduling(config, log)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """A real redis-server on a free port, shared by the session."""
    server = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisProcess) -> str:
    """URL of the session's real Redis, flushed before the test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def real_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def fake_redis() -> Iterator[fakeredis.FakeRedis]:
    """fakeredis with Lua, for fast unit tests only."""
    client = fakeredis.FakeRedis(decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def sentinel_group(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SentinelGroup]:
    """A master, one replica (indirect parametrization: that many) and three sentinels on
    free loopback ports, for one test (which may kill and restart its servers); `url` is
    the redis+sentinel:// URL."""
    replicas = getattr(request, "param", 1)
    group = SentinelGroup(
        tmp_path / "sentinel", replicas=replicas, down_after_ms=SENTINEL_DOWN_AFTER_MS
    )
    try:
        yield group.start()
    finally:
        group.stop()
