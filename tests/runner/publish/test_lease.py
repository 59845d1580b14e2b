"""The publisher lease: one holder; a holder of this host whose process is gone is replaced."""

from __future__ import annotations

import socket
import subprocess
import sys

import redis

from runner.publish.lease import PublisherLease
from state_store.keys import Keys

KEYS = Keys("default")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_live_holder_keeps_the_lease(real_redis: redis.Redis) -> None:
    first, second = PublisherLease(real_redis, KEYS, 5.0), PublisherLease(real_redis, KEYS, 5.0)
    assert first.hold() and not second.hold()
    assert first.hold()  # renewed
    first.release()
    assert second.hold()


def test_a_lease_left_by_a_dead_process_of_this_host_is_taken_over(
    real_redis: redis.Redis,
) -> None:
    stale = f"{socket.gethostname()}:{dead_pid()}:abcd"
    real_redis.set(KEYS.watcher, stale, px=60_000)
    lease = PublisherLease(real_redis, KEYS, 5.0)
    assert lease.hold()
    assert real_redis.get(KEYS.watcher) == lease.token


def test_a_lease_of_another_host_waits_for_its_ttl(real_redis: redis.Redis) -> None:
    real_redis.set(KEYS.watcher, f"elsewhere-{socket.gethostname()}:{dead_pid()}:abcd", px=60_000)
    assert not PublisherLease(real_redis, KEYS, 5.0).hold()
