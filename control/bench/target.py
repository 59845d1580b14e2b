"""Where a benchmark runs: a given Redis URL, or a private redis-server on loopback."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from state_store.private_redis import RedisProcess


@contextmanager
def bench_redis(redis_url: str | None) -> Iterator[tuple[redis.Redis, str]]:
    """A client for the benchmark and a description of where it points."""
    if redis_url:
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            yield client, redis_url
        finally:
            client.close()
        return
    with tempfile.TemporaryDirectory(prefix="nb-bench-") as tmp:
        server = RedisProcess(Path(tmp)).start()
        client = redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
        try:
            yield client, f"private redis-server on 127.0.0.1:{server.port}"
        finally:
            client.close()
            server.stop()
