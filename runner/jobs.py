"""Background jobs on rq: settlement of each closed window, periodic reconciliation.

Queue `nb-<bot>`, run by `neverblink worker` (an rq worker with its scheduler).
The queue lives in the jobs Redis: `Settings.jobs_redis_url`
(--jobs-redis-url, $NEVERBLINK_JOBS_REDIS_URL), else the bot's own Redis. rq
cannot use a Redis Cluster (its keys and Lua span slots), so a bot on a
`redis+cluster://` URL needs a separate small plain Redis for jobs. A job
writes the bot's state through its `redis_url` argument and schedules follow-up
jobs on the connection of the worker that runs it.
Jobs get everything they need as plain data (home, Redis URL, bot, the venue
as `VenueSpec.plain()`, market) and open their own connections: no closures,
no pickled clients, no secrets. A live venue's signing key comes from the
worker's own environment ($NEVERBLINK_PRIVATE_KEY or the 0600 file named by
$NEVERBLINK_PRIVATE_KEY_FILE), as for `neverblink run`. A job enqueued with a
bare venue URL (before jobs carried the venue spec) still runs, on the paper
venue at that URL.

Job ids are deterministic, so enqueueing is idempotent (rq `unique=True`):
- `nb-settle-<bot>-<market>`: one per window, whoever enqueues it first. A
  runner enqueues it when it finds the window closed and unsettled, to run
  `SETTLE_GRACE_S` later. Unresolved at the venue: the job returns an rq
  `Retry` and runs again after 2, 5, 10, 20, 30, then every 60 s (up to
  `SETTLE_PENDING_TRIES`); an exception (Redis or venue down): rq retries it 3
  times (10 s, 60 s, 300 s). Settling is one Lua transition that runs once.
- `nb-reconcile-<bot>-<slot>`: one per `every_s` period (slot = unix time //
  every_s). Each run schedules the next slot first, then compares Redis with
  the venue (runner.reconcile). `neverblink worker` seeds the current and next slot.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from rq import Queue, Retry, Worker, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from exchange.factory import VenueSpec, open_venue
from exchange.venue import Venue
from state_store.connection import connect, jobs_redis_url
from state_store.settings import Settings
from state_store.store import Store

log = logging.getLogger(__name__)

SETTLE_GRACE_S = 2.0  # wall seconds after a window is found closed before the first try
SETTLE_PENDING_INTERVALS = [2, 5, 10, 20, 30, 60]
SETTLE_PENDING_TRIES = 200  # ~3 h of 60 s retries, then the job fails (reconcile re-arms it)
ERROR_RETRY = (3, [10, 60, 300])  # on an exception: tries, intervals
RESULT_TTL_S = 3600
FAILURE_TTL_S = 7 * 86400
JOB_TIMEOUT_S = 120
_ID_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")
DEAD_STATUSES = (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED)
VENUE_ARG = 3  # position of the venue (VenueSpec.plain()) in every job's args
JOB_VENUE_TIMEOUT_S = 5.0  # one venue call of a job


@dataclass(frozen=True)
class JobTarget:
    """Where a job works: the bot's settings and the venue it trades on."""

    home: str
    redis_url: str  # "" means the home's embedded Redis
    bot: str
    venue: VenueSpec

    @classmethod
    def of(cls, settings: Settings, venue: VenueSpec) -> JobTarget:
        return cls(str(settings.home), settings.redis_url or "", settings.bot, venue)

    @classmethod
    def from_args(
        cls, home: str, redis_url: str, bot: str, venue: str | dict[str, str]
    ) -> JobTarget:
        """The target a job's arguments name (a bare string venue: a paper URL, old jobs)."""
        return cls(home, redis_url, bot, VenueSpec.from_plain(venue))

    def args(self) -> tuple[str, str, str, dict[str, str]]:
        return (self.home, self.redis_url, self.bot, self.venue.plain())

    def settings(self) -> Settings:
        """Settings exactly as given (no environment fallback: the job says where it works)."""
        return Settings(Path(self.home), self.redis_url or None, self.bot, Path("strategies"))


def queue_name(bot: str) -> str:
    return f"nb-{bot}"


def _id_part(text: str) -> str:
    """`text` if rq accepts it in a job id, else a stable digest of it."""
    if _ID_SAFE.match(text):
        return text
    return "x" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def settle_job_id(bot: str, market: str) -> str:
    return f"nb-settle-{_id_part(bot)}-{_id_part(market)}"


def reconcile_job_id(bot: str, slot: int) -> str:
    return f"nb-reconcile-{_id_part(bot)}-{slot}"


def rq_connection(settings: Settings) -> redis.Redis:
    """A client for the jobs Redis (rq stores pickled jobs: replies are not decoded)."""
    jobs_settings = replace(settings, redis_url=jobs_redis_url(settings))
    return connect(jobs_settings, decode_responses=False, client_name=f"rq-{settings.bot}")


def queue_for(conn: redis.Redis, bot: str) -> Queue:
    return Queue(queue_name(bot), connection=conn, default_timeout=JOB_TIMEOUT_S)


def workers_listening(conn: redis.Redis, bot: str) -> int:
    """rq workers registered on the bot's queue (a killed one counts until rq cleans it up)."""
    return Worker.count(connection=conn, queue=queue_for(conn, bot))


def _at(wall: float) -> datetime:
    return datetime.fromtimestamp(wall, tz=UTC)


def _enqueue_unique(queue: Queue, when: float, func: Any, args: Sequence[Any], **opts: Any) -> bool:
    """Schedule a job under its deterministic id; False when that job already exists."""
    try:
        queue.enqueue_at(_at(when), func, *args, unique=True, **opts)
    except DuplicateJobError:
        return False
    return True


def ensure_settlement_jobs(
    conn: redis.Redis, target: JobTarget, markets: Iterable[str], delay_s: float = SETTLE_GRACE_S
) -> list[str]:
    """Make sure each market has its settlement job; returns the markets enqueued now."""
    markets = list(markets)
    if not markets:
        return []
    ids = [settle_job_id(target.bot, m) for m in markets]
    pipe = conn.pipeline(transaction=False)
    for job_id in ids:
        pipe.exists(Job.key_for(job_id))
    missing = [(m, i) for m, i, e in zip(markets, ids, pipe.execute(), strict=True) if not e]
    queue = queue_for(conn, target.bot)
    return [m for m, job_id in missing if enqueue_settlement(queue, target, m, job_id, delay_s)]


def enqueue_settlement(
    queue: Queue, target: JobTarget, market: str, job_id: str, delay_s: float
) -> bool:
    tries, intervals = ERROR_RETRY
    return _enqueue_unique(
        queue, time.time() + delay_s, settle_job, (*target.args(), market), job_id=job_id,
        retry=Retry(max=tries, interval=intervals), result_ttl=RESULT_TTL_S,
        failure_ttl=FAILURE_TTL_S, description=f"settle {market} of bot {target.bot}",
    )  # fmt: skip


def settlement_job_status(conn: redis.Redis, bot: str, market: str) -> JobStatus | None:
    """The status of a market's settlement job; None when there is no such job."""
    try:
        job = Job.fetch(settle_job_id(bot, market), connection=conn)
    except NoSuchJobError:
        return None
    return job.get_status(refresh=False)


def rearm_settlement(conn: redis.Redis, target: JobTarget, market: str) -> bool:
    """Replace a dead (failed/stopped/canceled) or missing settlement job by a fresh one."""
    job_id = settle_job_id(target.bot, market)
    try:
        job = Job.fetch(job_id, connection=conn)
        if job.get_status(refresh=False) not in DEAD_STATUSES:
            return False
        job.delete()
    except NoSuchJobError:
        pass
    return enqueue_settlement(queue_for(conn, target.bot), target, market, job_id, 0.0)


def seed_reconcile(conn: redis.Redis, target: JobTarget, every_s: int) -> list[int]:
    """Make sure the current and the next reconciliation slots have their job."""
    slot = int(time.time() // every_s)
    return [i for i in (slot, slot + 1) if schedule_reconcile(conn, target, every_s, i)]


def schedule_reconcile(conn: redis.Redis, target: JobTarget, every_s: int, slot: int) -> bool:
    job_id = reconcile_job_id(target.bot, slot)
    return _enqueue_unique(
        queue_for(conn, target.bot), max(slot * every_s, time.time()), reconcile_job,
        (*target.args(), every_s), job_id=job_id, result_ttl=max(every_s * 4, 60),
        failure_ttl=FAILURE_TTL_S, description=f"reconcile bot {target.bot}",
    )  # fmt: skip


def retarget_jobs(conn: redis.Redis, bot: str, venue: VenueSpec) -> int:
    """Point the bot's waiting jobs (queued, scheduled, deferred) at `venue`; how many moved.

    A job carries the venue it was enqueued with. A new paper venue on another
    port (a second `neverblink demo` in the same home) would otherwise get the
    previous run's settlement and reconciliation jobs retried against a dead URL.
    Jobs that still carry a bare URL (older versions) get the spec too.
    """
    wanted = venue.plain()
    queue = queue_for(conn, bot)
    ids = set(queue.get_job_ids())
    ids |= set(queue.scheduled_job_registry.get_job_ids())
    ids |= set(queue.deferred_job_registry.get_job_ids())
    ours = {f"{__name__}.{f.__name__}" for f in (settle_job, reconcile_job)}
    moved = 0
    for job in Job.fetch_many(sorted(ids), connection=conn):
        if job is None or job.func_name not in ours:
            continue
        args = list(job.args)
        if len(args) > VENUE_ARG and args[VENUE_ARG] != wanted:
            args[VENUE_ARG] = wanted
            job.args = tuple(args)
            job.save()
            moved += 1
    return moved


@contextmanager
def working_on(target: JobTarget) -> Iterator[tuple[Store, Venue, redis.Redis]]:
    """A store, the venue (paper or live, `exchange.factory`) and an rq connection for
    one job run, closed afterwards."""
    settings = target.settings()
    with ExitStack() as opened:
        venue, close_venue = open_venue(target.venue, JOB_VENUE_TIMEOUT_S)
        opened.callback(close_venue)
        client = connect(settings, client_name=f"job-{target.bot}")
        opened.callback(client.close)
        running = get_current_job()
        if running is not None:
            conn = running.connection  # the worker's: the jobs Redis, whatever the bot's is
        else:
            conn = rq_connection(settings)
            opened.callback(conn.close)
        yield Store(client, target.bot), venue, conn


# -- job entry points (rq imports them by name: runner.jobs.settle_job, ...) ----------------


def settle_job(
    home: str, redis_url: str, bot: str, venue: str | dict[str, str], market: str
) -> str | Retry:
    """Settle one closed window from the venue's resolution; retry later while unresolved."""
    from runner.settlement import settle_market

    target = JobTarget.from_args(home, redis_url, bot, venue)
    with working_on(target) as (store, venue_client, _):
        outcome = settle_market(store, venue_client, market)
    log.info("settlement of %s (bot %s): %s", market, bot, outcome)
    if outcome == "pending":
        return Retry(max=SETTLE_PENDING_TRIES, interval=SETTLE_PENDING_INTERVALS)
    return outcome


def reconcile_job(
    home: str, redis_url: str, bot: str, venue: str | dict[str, str], every_s: int
) -> dict[str, int]:
    """Schedule the next run, then compare Redis with the venue and repair the gaps."""
    from runner.reconcile import Reconciler

    target = JobTarget.from_args(home, redis_url, bot, venue)
    with working_on(target) as (store, venue_client, conn):
        if every_s > 0:
            schedule_reconcile(conn, target, every_s, int(time.time() // every_s) + 1)
        report = Reconciler(store, venue_client, target, conn).run()
    log.info("reconciliation of bot %s: %s", bot, report)
    return report
