"""Settlement of closed windows: enqueued by runners, carried out by rq jobs.

A runner's housekeeping (`schedule`) makes sure every closed, unsettled
window has its settlement job (runner.jobs: one job per window, deterministic
id, so replicas enqueueing the same window make one job). The job asks the
venue for the resolution and settles through `settle_window.lua`, which runs
once: a second run finds the window settled and changes nothing.

When no rq worker listens on the bot's queue (a lone `neverblink run`), the
runner also settles a few windows per tick inline, through the same function,
so positions still get their payout; the jobs then find the work done.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence

import redis

from exchange.errors import VenueError
from exchange.factory import VenueSpec
from exchange.venue import Venue
from runner import jobs
from runner.runtime import Runtime
from state_store.models import WindowStatus
from state_store.store import Store

log = logging.getLogger(__name__)

SETTLE_INLINE_PER_TICK = 4
_rq_clients: weakref.WeakKeyDictionary[redis.Redis, redis.Redis] = weakref.WeakKeyDictionary()


def settle_market(store: Store, venue: Venue, market: str) -> str:
    """Settle one window if the venue resolved it.

    Returns `settled` (done now), `already` (done before), `pending` (not closed
    yet, not resolved yet, or the venue did not answer: try again later) or
    `no_window` (no such window in Redis).
    """
    window = store.window(market)
    if window is None:
        return "no_window"
    if window.status == WindowStatus.SETTLED:
        return "already"
    if window.status == WindowStatus.OPEN:
        return "pending"
    try:
        resolution = venue.resolution(market, window.condition_id)
    except VenueError as exc:
        log.warning("resolution of %s unavailable: %s", market, exc)
        return "pending"
    if resolution is None:
        return "pending"
    return store.settle_window(market, resolution.winner, resolution.end_price or "").outcome


def settle_inline(store: Store, venue: Venue, markets: Sequence[str]) -> int:
    """Settle these windows now where resolved; returns how many were settled by this call."""
    return sum(settle_market(store, venue, m) == "settled" for m in markets)


def schedule(rt: Runtime) -> int:
    """Housekeeping: enqueue settlement jobs for closed windows; settle inline if no worker.

    Returns how many jobs were enqueued by this call.
    """
    markets = rt.store.unsettled_markets()
    if not markets:
        return 0
    spec = job_venue(rt)
    conn = rq_client(rt)
    enqueued: list[str] = []
    if spec is not None:
        enqueued = jobs.ensure_settlement_jobs(conn, jobs.JobTarget.of(rt.settings, spec), markets)
    if spec is None or jobs.workers_listening(conn, rt.settings.bot) == 0:
        start = (rt.tick * SETTLE_INLINE_PER_TICK) % len(markets)  # rotate: none starves
        batch = (markets[start:] + markets[:start])[:SETTLE_INLINE_PER_TICK]
        if settle_inline(rt.store, rt.venue, batch):
            log.info("no rq worker on %s: settled inline", jobs.queue_name(rt.settings.bot))
    return len(enqueued)


def job_venue(rt: Runtime) -> VenueSpec | None:
    """How a job reaches the runner's venue: its spec, else (a paper client handed in
    without one) the paper venue at the client's URL; None: jobs cannot reach it."""
    if rt.venue_spec is not None:
        return rt.venue_spec
    url = str(getattr(rt.venue, "base_url", "") or "")
    return VenueSpec("paper", url) if url else None


def rq_client(rt: Runtime) -> redis.Redis:
    """The runner's rq connection (replies not decoded), made once per Redis client."""
    conn = _rq_clients.get(rt.client)
    if conn is None:
        conn = jobs.rq_connection(rt.settings)
        _rq_clients[rt.client] = conn
    return conn
