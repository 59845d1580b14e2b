"""Observations and checks for the Sentinel failover tests: the venue's client order ids,
repairs against the audit trail, runners back after a failover, reconciliation runs."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from control.bench.replicas import Cluster
from runner import jobs
from state_store.audit import read_jsonl
from state_store.models import Order, adopted_client_order_id
from state_store.private_topology import SentinelGroup
from state_store.settings import Settings
from state_store.store import Store

POLL_S = 0.02
BACKLOG_S = 120  # reconciliation slots this far back may still be waiting to run


def venue_salts(venue_redis: redis.Redis) -> dict[str, str]:
    """Venue order id -> the salt of its signed order (derived from the client order id)."""
    out: dict[str, str] = {}
    for key in venue_redis.scan_iter(match="pv:{*}:order:*", count=1000):
        order_id, salt = venue_redis.hmget(key, ["id", "salt"])
        if order_id:
            out[str(order_id)] = str(salt or "")
    return out


def check_client_order_ids_unique(venue_redis: redis.Redis) -> int:
    """No client order id reached the venue twice (one salt per venue order); returns how
    many venue orders there are."""
    salts = venue_salts(venue_redis)
    assert all(salts.values()), "a venue order without its salt"
    twice = {s: n for s, n in Counter(salts.values()).items() if n > 1}
    assert not twice, f"client order ids placed twice at the venue: {twice}"
    return len(salts)


def check_repairs_audited(store: Store, settings: Settings, orders: Iterable[Order]) -> int:
    """Every order adopted from the venue has its audit line in audit.jsonl (the file copy:
    the Redis stream's copy may go with a failover); returns how many were adopted."""
    entries = read_jsonl(settings.audit_file)
    audited = {
        e.args.get("client_order_id")
        for e in entries
        if e.command == "repair_order_adopted_from_venue"
    }
    adopted = [
        o
        for o in orders
        if o.client_order_id == adopted_client_order_id(store.bot, o.venue_order_id)
    ]
    missing = [o.client_order_id for o in adopted if o.client_order_id not in audited]
    assert not missing, f"adopted without an audit entry: {missing}"
    return len(adopted)


@dataclass(frozen=True)
class Failover:
    killed_at: float  # wall time of the SIGKILL
    promoted_s: float  # until the sentinels named a new master that answers
    back_s: float  # until every runner had finished a tick on the new master

    @property
    def after_promotion_s(self) -> float:
        return self.back_s - self.promoted_s


def force_failover(group: SentinelGroup, cluster: Cluster, timeout: float = 60.0) -> Failover:
    """SIGKILL the master, wait for the promotion, restart the old master as a replica, and
    wait until every runner ticked on the new master (its heartbeat: written only by a tick
    that reached Redis, at its end)."""
    killed_at = time.time()
    old = group.kill_master()
    new = group.wait_failover(old)
    promoted = time.time() - killed_at
    wait_agreed(group, new)  # a sentinel still naming the old master would send clients there
    group.restart_as_replica(old)
    back: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(back) < len(cluster.runners) and time.monotonic() < deadline:
        for replica in cluster.runners:
            if replica in back:
                continue
            try:
                beat = cluster.heartbeat(replica)
            except redis.ConnectionError:
                beat = None
            if beat is not None and beat[0] > killed_at:
                back[replica] = beat[0] - killed_at
        time.sleep(POLL_S)
    assert len(back) == len(cluster.runners), f"runners not back after a failover: {back}"
    return Failover(killed_at, promoted, max(back.values()))


def wait_agreed(group: SentinelGroup, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not group.all_agree(port):
        assert time.monotonic() < deadline, "the sentinels never agreed on the new master"
        time.sleep(POLL_S)


def reconciled_since(conn: redis.Redis, bot: str, every_s: int, since: float) -> bool:
    """A reconciliation job (of any slot: a backlog slot counts) finished after `since`."""
    first = int((since - BACKLOG_S) // every_s)
    for slot in range(first, int(time.time() // every_s) + 2):
        try:
            job = Job.fetch(jobs.reconcile_job_id(bot, slot), connection=conn)
        except NoSuchJobError:
            continue
        ended = job.ended_at
        if job.get_status() == JobStatus.FINISHED and ended and ended.timestamp() > since:
            return True
    return False
