"""Shared fixtures: a private redis-server per session, a clean database per test."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
import redis

from tests.redis_process import RedisProcess


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
