"""Reconciliation: each kind of gap between Redis and the venue is repaired once and audited."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from rq.job import Job, JobStatus

from exchange.types import OrderRequest
from runner import jobs
from runner.reconcile import Reconciler
from state_store.audit import read_jsonl, read_stream
from state_store.models import Intent, OrderStatus, Window, WindowStatus
from state_store.settings import Settings
from state_store.store import Lease, Store
from tests.runner.clocked_venue import ClockedVenue
from tests.runner.conftest import BOTH_CLOCKED


@pytest.fixture
def conn(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def settings(tmp_path: Path, redis_url: str) -> Settings:
    return Settings(tmp_path / "home", redis_url, "default", tmp_path / "strategies")


class Bench:
    """One open market with a lease, and helpers to make orders half in Redis, half at the venue."""

    def __init__(self, store: Store, clocked: ClockedVenue, conn: redis.Redis, s: Settings):
        self.store, self.clocked, self.conn, self.settings = store, clocked, conn, s
        self.window: Window = next(w for w in clocked.record_live(store) if w.interval == "5m")
        lease = store.claim_lease(self.window.market, "r1", 60_000)
        assert lease is not None
        self.lease: Lease = lease
        self.target = jobs.JobTarget.of(s, clocked.spec)

    def order(self, key: str, price: str, status: str = "new", place: bool = False) -> str:
        intent = Intent(key, self.window.market, "Up", "BUY", Decimal(price), Decimal(5), "GTC")
        coid = self.store.client_order_id("s", intent, self.window)
        req = OrderRequest(coid, self.window.up_token, "BUY", intent.price, intent.size, "GTC")
        venue_id = self.clocked.venue.order_id_for(req)
        self.store.create_order("s", intent, self.window, self.lease, venue_id)
        if status != "new":
            self.store.ack_order(coid, self.window.market, status, venue_id)
        if place:
            assert self.clocked.venue.place(req).success
        return coid

    def age(self, coid: str, seconds: float) -> None:
        order = self.store.order(coid)
        assert order is not None
        old = f"{order.created_at - seconds:.3f}"
        self.store.client.hset(
            self.store.keys.order(coid), mapping={"created_at": old, "updated_at": old}
        )

    def reconcile(self, **options: float) -> dict[str, int]:
        return Reconciler(self.store, self.clocked.venue, self.target, self.conn, **options).run()

    def audited(self) -> list[str]:
        stream = [e.command for e in read_stream(self.store.client, self.store.keys, 100)]
        assert stream == [e.command for e in read_jsonl(self.settings.audit_file)]
        return stream


@pytest.fixture
def bench(
    real_redis: redis.Redis, clocked: ClockedVenue, conn: redis.Redis, settings: Settings
) -> Bench:
    return Bench(Store(real_redis, "default"), clocked, conn, settings)


def ask(bench: Bench) -> str:
    book = bench.clocked.venue.books([bench.window.up_token])[bench.window.up_token]
    assert book.best_ask is not None
    return str(book.best_ask)


@BOTH_CLOCKED
def test_a_missing_fill_is_applied_once_and_audited(bench: Bench) -> None:
    coid = bench.order("take", ask(bench), "submitted", place=True)  # fills at the venue...
    assert bench.reconcile(recheck_s=0)["fills_repaired"] == 1  # ...never polled by a runner
    order = bench.store.order(coid)
    assert order is not None and order.status == OrderStatus.FILLED and order.filled == 5
    assert bench.store.position(bench.window.market).up_shares == 5
    assert bench.audited() == ["repair_fill"]
    entry = read_jsonl(bench.settings.audit_file)[0]
    assert entry.args["client_order_id"] == coid and entry.new_version == 0
    assert "fills_repaired" not in bench.reconcile(recheck_s=0)  # seen twice, repaired once
    assert bench.audited() == ["repair_fill"]


def forget(bench: Bench, coid: str) -> str:
    """What a Redis that lost the order's create looks like: no record, no venue id mapping."""
    order = bench.store.order(coid)
    assert order is not None
    client, keys = bench.store.client, bench.store.keys
    client.delete(keys.order(coid))
    client.hdel(keys.venue_orders, order.venue_order_id)
    for key in (keys.pending, keys.pending_market(order.market), keys.market_orders(order.market)):
        client.srem(key, coid)
    return order.venue_order_id


@BOTH_CLOCKED
def test_fills_and_resting_orders_redis_lost_are_adopted_not_skipped(bench: Bench) -> None:
    taken = forget(bench, bench.order("take", ask(bench), "submitted", place=True))
    resting = forget(bench, bench.order("rest", "0.01", "submitted", place=True))
    counts = bench.reconcile(recheck_s=0)
    assert counts["fills_repaired"] == 1 and counts["venue_orders_adopted"] == 1
    assert counts["orders_adopted"] == 1 and "fills_unplaced" not in counts
    for venue_id in (taken, resting):
        coid = bench.store.coid_for_venue_order(venue_id)
        assert coid is not None and bench.store.order(coid) is not None
    assert bench.store.position(bench.window.market).up_shares == 5
    assert sorted(bench.audited()) == sorted(
        ["repair_order_adopted_from_venue", "repair_fill", "repair_order_adopted_from_venue"]
    )


@BOTH_CLOCKED
def test_a_stuck_order_the_venue_has_is_adopted(bench: Bench) -> None:
    coid = bench.order("rest", "0.01", "submitted", place=True)
    bench.age(coid, 60)
    assert bench.reconcile()["orders_adopted"] == 1
    order = bench.store.order(coid)
    assert order is not None and order.status == OrderStatus.LIVE
    assert bench.audited() == ["repair_order_adopted"]


@BOTH_CLOCKED
def test_an_order_that_never_reached_the_venue_expires_only_when_old(bench: Bench) -> None:
    young, old = bench.order("young", "0.01"), bench.order("old", "0.02")
    bench.age(young, 40)  # stuck, but the lease holder may still post it
    bench.age(old, 600)
    assert bench.reconcile()["orders_expired"] == 1
    statuses = {c: o.status for c in (young, old) if (o := bench.store.order(c)) is not None}
    assert statuses == {young: OrderStatus.NEW, old: OrderStatus.EXPIRED}
    assert bench.audited() == ["repair_order_expired"]


@BOTH_CLOCKED
def test_an_order_open_at_the_venue_but_over_in_redis_is_cancelled_there(bench: Bench) -> None:
    coid = bench.order("rest", "0.01", "live", place=True)
    bench.store.cancel_order(coid, bench.window.market, "expired", "window ended")
    assert bench.reconcile()["venue_orders_cancelled"] == 1
    assert bench.clocked.venue.open_orders() == []
    assert bench.audited() == ["repair_venue_cancel"]


@BOTH_CLOCKED
def test_an_order_the_venue_canceled_is_ended_in_redis(bench: Bench) -> None:
    coid = bench.order("rest", "0.01", "live", place=True)
    order = bench.store.order(coid)
    assert order is not None and bench.clocked.venue.cancel(order.venue_order_id)
    bench.age(coid, 60)
    assert bench.reconcile()["orders_closed"] == 1
    order = bench.store.order(coid)
    assert order is not None and order.status == OrderStatus.CANCELLED
    assert bench.audited() == ["repair_order_closed"]


@BOTH_CLOCKED
def test_ended_windows_are_closed_only_when_no_runner_is_alive(bench: Bench) -> None:
    bench.clocked.end(bench.window)
    keys = bench.store.keys
    bench.store.client.sadd(keys.runners, "r1")
    bench.store.client.hset(keys.runner("r1"), "tick", "1")  # a live heartbeat
    assert "windows_closed" not in bench.reconcile()
    bench.store.client.delete(keys.runner("r1"))  # its heartbeat expired
    assert bench.reconcile()["windows_closed"] >= 1
    window = bench.store.window(bench.window.market)
    assert window is not None and window.status == WindowStatus.CLOSED
    job_id = jobs.settle_job_id("default", bench.window.market)
    assert Job.fetch(job_id, connection=bench.conn).get_status() == JobStatus.SCHEDULED
    assert "repair_window_closed" in bench.audited()


@BOTH_CLOCKED
def test_a_dead_or_missing_settlement_job_is_rearmed(bench: Bench) -> None:
    market = bench.window.market
    bench.store.close_window(market)
    bench.store.client.hset(bench.store.keys.window(market), "closed_at", "1000")  # long ago
    assert bench.reconcile()["settlements_rearmed"] == 1  # no job at all
    job = Job.fetch(jobs.settle_job_id("default", market), connection=bench.conn)
    job.set_status(JobStatus.FAILED)
    assert bench.reconcile()["settlements_rearmed"] == 1  # a failed one
    again = Job.fetch(jobs.settle_job_id("default", market), connection=bench.conn)
    assert again.get_status() == JobStatus.SCHEDULED
    assert "settlements_rearmed" not in bench.reconcile()  # a live one is left alone
    assert bench.audited().count("repair_settlement_rearmed") == 2
