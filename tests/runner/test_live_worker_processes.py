"""`neverblink run --venue live` and `neverblink worker --venue live` as real processes against
the paper venue (V2 signatures, L2 auth, a throwaway key in their environment; only URLs differ
from mainnet): the worker's jobs settle the closed windows and reconcile, and positions equal
the venue's ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from eth_account import Account
from rq.job import Job, JobStatus

from exchange.factory import VenueSpec, open_venue
from exchange.live.keys import KEY_ENV
from exchange.venue import Venue
from runner import jobs
from runner.reconcile import Reconciler
from state_store.models import WindowStatus
from state_store.settings import Settings
from state_store.store import Store
from tests.runner.processes import Proc, neverblink, start_venue, wait_for
from tests.runner.replica_checks import check_settled_once, check_venue_ledger
from tests.runner.test_chaos_kill import EVERY_SECOND

WINDOW_S = 5  # 5m windows of 5 venue seconds: several close within the test


@pytest.fixture
def rq_conn(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)  # rq: replies not decoded
    yield conn
    conn.close()


def settled_by_jobs(conn: redis.Redis, store: Store) -> list[str]:
    """Markets whose settlement job finished having settled the window itself."""
    done = []
    for window in store.windows():
        if window.status != WindowStatus.SETTLED:
            continue
        try:
            job = Job.fetch(jobs.settle_job_id("default", window.market), connection=conn)
        except Exception:  # no such job (yet)
            continue
        if job.get_status() == JobStatus.FINISHED and job.return_value() == "settled":
            done.append(window.market)
    return done


def reconciled(conn: redis.Redis) -> bool:
    finished = jobs.queue_for(conn, "default").finished_job_registry.get_job_ids()
    return any(i.startswith("nb-reconcile-default-") for i in finished)


@pytest.mark.chaos
@pytest.mark.timeout(240)
def test_live_runner_and_live_worker_settle_and_reconcile_against_the_venue(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis, rq_conn: redis.Redis
) -> None:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "every_second.py").write_text(EVERY_SECOND)  # a taker order every second
    venue_proc, venue_url = start_venue(tmp_path, redis_url, window_seconds=WINDOW_S)
    home = tmp_path / "home"
    env = {KEY_ENV: Account.create().key.hex()}  # the same account for runner and worker
    common = ["--home", str(home), "--redis-url", redis_url, "--strategies", str(strategies),
              "--venue", "live", "--clob-url", venue_url]  # fmt: skip
    runner = Proc(neverblink("run", "--replica", "r1", "--tick", "0.2", *common),
                  tmp_path / "runner.log", env)  # fmt: skip
    worker = Proc(neverblink("worker", "--reconcile-every", "2", *common),
                  tmp_path / "worker.log", env)  # fmt: skip
    store = Store(real_redis, "default")
    spec = VenueSpec("live", venue_url)
    venue, close_venue = open_venue(spec, 10.0, env=env)  # the test's view of the account
    try:
        worker.start()
        runner.start()
        wait_for("the worker's jobs settle two windows",
                 lambda: len(settled_by_jobs(rq_conn, store)) >= 2, 150)  # fmt: skip
        wait_for("a reconciliation job ran", lambda: reconciled(rq_conn), 30)
        assert runner.terminate() == 0
        assert worker.terminate() == 0
        final_reconciliation(tmp_path, redis_url, store, venue, spec, rq_conn)
        orders = [o for m in store.markets() for o in store.market_orders(m)]
        assert check_venue_ledger(store, venue, orders), "nothing traded: the test proves nothing"
        settled = [w for w in store.windows() if w.status == WindowStatus.SETTLED]
        assert check_settled_once(store, venue, settled) >= 2
    finally:
        close_venue()
        runner.kill()
        worker.kill()
        venue_proc.kill()
    for log in ("runner.log", "worker.log"):
        assert env[KEY_ENV].removeprefix("0x") not in (tmp_path / log).read_text()


def final_reconciliation(
    tmp: Path, redis_url: str, store: Store, venue: Venue, spec: VenueSpec, conn: redis.Redis
) -> None:
    """Resting orders end at the venue; one last reconciliation brings their fills in."""
    venue.cancel_all()
    settings = Settings(tmp / "home", redis_url, "default", tmp / "strategies")
    target = jobs.JobTarget.of(settings, spec)
    Reconciler(store, venue, target, conn, recheck_s=0, stuck_after_s=0).run()
