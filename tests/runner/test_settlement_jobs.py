"""Settlement jobs: one per window whoever enqueues it, settle once, retry while unresolved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import redis
from rq import SimpleWorker
from rq.job import Job, JobStatus

from runner import jobs, settlement
from runner.host.caller import HostCaller
from runner.runtime import RunnerConfig, Runtime
from runner.settlement import settle_market
from state_store.models import WindowStatus
from state_store.settings import Settings
from state_store.store import Store
from tests.runner.clocked_venue import ClockedVenue, clocked_venue


@pytest.fixture
def clocked(real_redis: redis.Redis) -> Iterator[ClockedVenue]:
    with clocked_venue(real_redis) as venue:
        yield venue


@pytest.fixture
def conn(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)  # rq: replies not decoded
    yield client
    client.close()


@pytest.fixture
def target(tmp_path: Path, redis_url: str, clocked: ClockedVenue) -> jobs.JobTarget:
    settings = Settings(tmp_path / "home", redis_url, "default", tmp_path / "strategies")
    return jobs.JobTarget.of(settings, clocked.url)


def run_worker(conn: redis.Redis, bot: str = "default") -> None:
    SimpleWorker([jobs.queue_for(conn, bot)], connection=conn).work(burst=True, with_scheduler=True)


def test_job_ids_are_deterministic_and_valid_for_rq() -> None:
    assert jobs.settle_job_id("default", "btc-updown-5m-1") == "nb-settle-default-btc-updown-5m-1"
    odd = jobs.settle_job_id("my.bot", "m/1")
    assert odd == jobs.settle_job_id("my.bot", "m/1") and "/" not in odd and "." not in odd
    assert jobs.settle_job_id("a", "m") != jobs.settle_job_id("b", "m")


def test_replicas_enqueueing_the_same_window_make_one_job(
    conn: redis.Redis, target: jobs.JobTarget
) -> None:
    assert jobs.ensure_settlement_jobs(conn, target, ["m1", "m2"]) == ["m1", "m2"]
    assert jobs.ensure_settlement_jobs(conn, target, ["m1", "m2", "m3"]) == ["m3"]
    queue = jobs.queue_for(conn, "default")
    assert sorted(queue.scheduled_job_registry.get_job_ids()) == [
        jobs.settle_job_id("default", m) for m in ("m1", "m2", "m3")
    ]
    job = Job.fetch(jobs.settle_job_id("default", "m1"), connection=conn)
    assert job.args == (*target.args(), "m1")  # plain strings: no closure, no client


def test_settle_market_settles_once_from_the_venue_resolution(
    real_redis: redis.Redis, clocked: ClockedVenue
) -> None:
    store = Store(real_redis, "default")
    window = clocked.record_live(store)[0]
    assert settle_market(store, clocked.venue, window.market) == "pending"  # still open
    store.close_window(window.market)
    assert settle_market(store, clocked.venue, window.market) == "pending"  # not resolved
    clocked.end(window)
    assert settle_market(store, clocked.venue, window.market) == "settled"
    assert settle_market(store, clocked.venue, window.market) == "already"
    settled = store.window(window.market)
    resolution = clocked.venue.resolution(window.market)
    assert settled is not None and resolution is not None
    assert settled.status == WindowStatus.SETTLED and settled.winner == resolution.winner
    assert settle_market(store, clocked.venue, "no-such-market") == "no_window"


def test_worker_runs_the_job_and_an_unresolved_window_is_retried(
    real_redis: redis.Redis, conn: redis.Redis, clocked: ClockedVenue, target: jobs.JobTarget
) -> None:
    store = Store(real_redis, "default")
    first, second = [w for w in clocked.record_live(store) if w.interval == "5m"][:2]
    for window in (first, second):
        store.close_window(window.market)
    jobs.ensure_settlement_jobs(conn, target, [first.market], delay_s=0)
    run_worker(conn)  # the venue has not resolved it yet: the job asks to run again
    job = Job.fetch(jobs.settle_job_id("default", first.market), connection=conn)
    assert job.get_status() == JobStatus.SCHEDULED and job.number_of_retries == 1
    clocked.end(first)
    jobs.ensure_settlement_jobs(conn, target, [second.market], delay_s=0)
    run_worker(conn)
    done = Job.fetch(jobs.settle_job_id("default", second.market), connection=conn)
    assert done.get_status() == JobStatus.FINISHED and done.return_value() == "settled"
    again = jobs.settle_job(*target.args(), second.market)  # a second run settles nothing
    assert again == "already"


def runtime_on(store: Store, clocked: ClockedVenue, settings: Settings, replica: str) -> Runtime:
    no_strategies = cast(HostCaller, None)  # settlement never calls a strategy
    return Runtime(
        settings, RunnerConfig(replica), store.client, store, clocked.venue, None, no_strategies
    )


def test_runners_enqueue_one_job_per_closed_window_and_settle_inline_without_worker(
    real_redis: redis.Redis, conn: redis.Redis, clocked: ClockedVenue, target: jobs.JobTarget
) -> None:
    store = Store(real_redis, "default")
    window = next(w for w in clocked.record_live(store) if w.interval == "5m")
    store.close_window(window.market)
    settings = target.settings()
    r1, r2 = (runtime_on(store, clocked, settings, r) for r in ("r1", "r2"))
    assert settlement.schedule(r1) == 1 and settlement.schedule(r2) == 0  # one job
    job = Job.fetch(jobs.settle_job_id("default", window.market), connection=conn)
    assert job.get_status() == JobStatus.SCHEDULED
    assert jobs.workers_listening(conn, "default") == 0
    clocked.end(window)
    settlement.schedule(r1)  # no worker listens: the runner settles it itself
    settled = store.window(window.market)
    assert settled is not None and settled.status == WindowStatus.SETTLED
    assert store.unsettled_markets() == []


def test_jobs_of_an_earlier_venue_are_retargeted_and_then_settle(
    real_redis: redis.Redis, conn: redis.Redis, clocked: ClockedVenue, target: jobs.JobTarget
) -> None:
    """A second demo in the same home: the first run's jobs name a venue URL that is gone."""
    store = Store(real_redis, "default")
    window = next(w for w in clocked.record_live(store) if w.interval == "5m")
    store.close_window(window.market)
    clocked.end(window)
    gone = jobs.JobTarget(target.home, target.redis_url, target.bot, "http://127.0.0.1:9")
    jobs.ensure_settlement_jobs(conn, gone, [window.market], delay_s=0)
    jobs.seed_reconcile(conn, gone, 3600)
    assert jobs.retarget_jobs(conn, "default", clocked.url) == 3  # settle + 2 reconcile slots
    assert jobs.retarget_jobs(conn, "default", clocked.url) == 0  # already there
    assert jobs.retarget_jobs(conn, "other-bot", "http://x") == 0  # another bot's queue
    job = Job.fetch(jobs.settle_job_id("default", window.market), connection=conn)
    assert job.args[jobs.VENUE_ARG] == clocked.url
    run_worker(conn)
    done = Job.fetch(jobs.settle_job_id("default", window.market), connection=conn)
    assert done.get_status() == JobStatus.FINISHED and done.return_value() == "settled"
