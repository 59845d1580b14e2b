"""The worker's maintenance (runner.worker.BotWorker), against a real redis-server: a queue's
scheduler lock whose owner stopped beating is freed, so this worker's scheduler takes the
queue now; a lock whose owner beats is left alone. (A whole failover:
test_sentinel_failover.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.utils import now, utcformat

from runner import jobs
from runner.worker import STALE_S, BotWorker


@pytest.fixture
def worker(redis_url: str) -> Iterator[BotWorker]:
    conn = redis.Redis.from_url(redis_url)  # rq pickles: no decoding
    queue = jobs.queue_for(conn, "default")
    made = BotWorker([queue], connection=conn)
    made.scheduler = RQScheduler([queue], connection=conn)
    yield made
    conn.close()


def hold_lock(conn: redis.Redis, owner: str, beat_age_s: float | None) -> str:
    key: str = RQScheduler.get_locking_key(jobs.queue_name("default"))
    conn.set(key, owner, ex=60)
    if beat_age_s is not None:
        beat = utcformat(now() - timedelta(seconds=beat_age_s))
        conn.hset(SCHEDULER_KEY_TEMPLATE % owner, "last_heartbeat", beat)
    return key


@pytest.mark.parametrize("beat_age_s", [None, STALE_S + 5])
def test_a_silent_owner_loses_its_scheduler_lock(
    worker: BotWorker, beat_age_s: float | None
) -> None:
    key = hold_lock(worker.connection, "ghost", beat_age_s)
    worker.free_stale_scheduler_locks()
    assert worker.connection.get(key) is None
    assert worker.scheduler is not None
    assert worker.scheduler.acquire_locks() == {  # type: ignore[no-untyped-call]
        jobs.queue_name("default")
    }


def test_a_beating_owner_keeps_its_scheduler_lock(worker: BotWorker) -> None:
    key = hold_lock(worker.connection, "alive-elsewhere", 1.0)
    worker.free_stale_scheduler_locks()
    assert worker.connection.get(key) == b"alive-elsewhere"
