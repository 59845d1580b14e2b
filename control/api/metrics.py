"""`GET /metrics`: Prometheus text, derived from Redis / status.json at scrape time.

Its own `CollectorRegistry` (never the process-global one), one custom
collector. Runner figures come from the runner heartbeats (status.json when
Redis is down); reload counters are counted from the manifest stream
incrementally (a cursor per app), so they never go down when the stream is trimmed.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator

import redis
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from control.api import answers
from control.api.auth import read_access
from control.reports import ControlBlock, RunnerRow, StatusReport
from control.service import ControlService
from state_store.errors import REDIS_UNAVAILABLE
from state_store.keys import Keys
from state_store.manifest import after

RELOAD_KINDS = ("live", "promoted", "rejected", "rolled_back", "deferred")
BATCH = 1000

router = APIRouter()


class ReloadCounts:
    """Counts of manifest entries per kind, advanced from the last stream id seen."""

    def __init__(self) -> None:
        self.cursor = "0-0"
        self.kinds: Counter[str] = Counter()
        self.lock = threading.Lock()

    def advance(self, client: redis.Redis, keys: Keys) -> None:
        with self.lock:
            while True:
                entries = after(client, keys, self.cursor, BATCH)
                for entry in entries:
                    self.kinds[entry.kind] += 1
                    self.cursor = entry.id or self.cursor
                if len(entries) < BATCH:
                    return


class NeverblinkCollector(Collector):
    def __init__(self, service: ControlService) -> None:
        self.service = service
        self.reloads = ReloadCounts()

    def describe(self) -> Iterable[Metric]:
        return []  # collected on demand; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        status = answers.status_report(self.service)
        up = GaugeMetricFamily("neverblink_redis_up", "1 when Redis answered this scrape")
        up.add_metric([], 1.0 if status.plane == "redis" else 0.0)
        yield up
        yield from _control_metrics(status.control)
        yield from _runner_metrics(status.runners)
        yield from _trading_metrics(status)
        yield from self._reload_metrics(status.plane == "redis")

    def _reload_metrics(self, redis_up: bool) -> Iterator[Metric]:
        client = self.service.client() if redis_up else None
        if client is not None:
            try:
                self.reloads.advance(client, self.service.keys)
            except REDIS_UNAVAILABLE as exc:  # keep the counts we have
                self.service.redis_problem = str(exc)
        kinds = self.reloads.kinds
        events = CounterMetricFamily(
            "neverblink_reload_events", "Reload manifest entries by kind", labels=["kind"]
        )
        for kind in sorted({*RELOAD_KINDS, *kinds}):
            events.add_metric([kind], float(kinds[kind]))
        yield events
        reloads = CounterMetricFamily(
            "neverblink_reloads", "Code versions that went live (ok) or were rejected (failed)",
            labels=["result"],
        )  # fmt: skip
        reloads.add_metric(["ok"], float(kinds["live"]))
        reloads.add_metric(["failed"], float(kinds["rejected"]))
        yield reloads
        rollbacks = CounterMetricFamily("neverblink_rollbacks", "Automatic rollbacks")
        rollbacks.add_metric([], float(kinds["rolled_back"]))
        yield rollbacks


def _control_metrics(control: ControlBlock) -> Iterator[Metric]:
    for name, help_text, value in (
        ("neverblink_control_version", "Version of the desired state in force", control.version),
        ("neverblink_paused", "1 when the desired state pauses entries", control.paused),
        ("neverblink_killed", "1 when the desired state is killed", control.killed),
    ):
        gauge = GaugeMetricFamily(name, help_text)
        gauge.add_metric([], float(value))
        yield gauge


RUNNER_GAUGES = (
    ("neverblink_runner_up", "1 while the runner's heartbeat is alive", "alive"),
    ("neverblink_runner_paused", "1 when the runner reports paused", "paused"),
    ("neverblink_runner_degraded", "1 when the runner is in degraded mode", "degraded"),
    ("neverblink_runner_heartbeat_age_seconds", "Seconds since the last heartbeat",
     "heartbeat_age_s"),
    ("neverblink_runner_on_probation", "1 while the runner's code is on probation",
     "on_probation"),
)  # fmt: skip
RUNNER_ALERTS = (  # 1 while the runner reports the field set: places no orders, alert on it
    ("neverblink_runner_halted", "1 while an operational error stops the runner's orders",
     "operational_error"),
    ("neverblink_runner_venue_unresponsive", "1 while the venue does not answer the runner",
     "venue_unresponsive_since"),
)  # fmt: skip
RUNNER_COUNTERS = (
    ("neverblink_runner_ticks", "Ticks since the runner started", "tick"),
    ("neverblink_runner_orders_created", "Orders created since the runner started",
     "orders_created"),
    ("neverblink_runner_ticks_missed", "Tick periods in which the runner started no tick",
     "ticks_missed"),
)  # fmt: skip


def _runner_metrics(runners: list[RunnerRow]) -> Iterator[Metric]:
    for name, help_text, field in RUNNER_GAUGES:
        gauge = GaugeMetricFamily(name, help_text, labels=["replica"])
        for row in runners:
            value = getattr(row, field)
            if value is not None:
                gauge.add_metric([row.replica], float(value))
        yield gauge
    for name, help_text, field in RUNNER_ALERTS:
        gauge = GaugeMetricFamily(name, help_text, labels=["replica"])
        for row in runners:
            gauge.add_metric([row.replica], 1.0 if getattr(row, field) else 0.0)
        yield gauge
    for name, help_text, field in RUNNER_COUNTERS:
        counter = CounterMetricFamily(name, help_text, labels=["replica"])
        for row in runners:
            value = getattr(row, field)
            if value is not None:
                counter.add_metric([row.replica], float(value))
        yield counter
    yield from _book_metrics(runners)
    yield _tick_histogram(runners)
    yield from _risk_metrics(runners)
    degraded = GaugeMetricFamily("neverblink_degraded", "1 when any runner is degraded")
    degraded.add_metric([], 1.0 if any(r.degraded for r in runners) else 0.0)
    yield degraded


def _book_metrics(runners: list[RunnerRow]) -> Iterator[Metric]:
    """Where each runner's books came from at its last tick, and entries refused on stale ones."""
    books = GaugeMetricFamily(
        "neverblink_runner_books", "Books of the runner's last tick by source (stream, rest, "
        "stale)", labels=["replica", "source"],
    )  # fmt: skip
    refused = CounterMetricFamily(
        "neverblink_runner_entries_refused_stale", "Buy intents refused on a stale book",
        labels=["replica"],
    )  # fmt: skip
    for row in runners:
        for source in ("stream", "rest", "stale"):
            books.add_metric([row.replica, source], float(getattr(row.books, source)))
        refused.add_metric([row.replica], float(row.books.entries_refused))
    yield books
    yield refused


def _risk_metrics(runners: list[RunnerRow]) -> Iterator[Metric]:
    refused = CounterMetricFamily(
        "neverblink_risk_refused", "Orders a risk limit refused", labels=["replica", "limit"]
    )
    breached = GaugeMetricFamily(
        "neverblink_risk_loss_breached", "1 while a scope is past its daily loss limit",
        labels=["replica", "scope"],
    )  # fmt: skip
    for row in runners:
        for limit, n in sorted(row.risk_refused.items()):
            refused.add_metric([row.replica, limit], float(n))
        for scope in row.risk_breached:
            breached.add_metric([row.replica, scope], 1.0)
    yield refused
    yield breached


def _trading_metrics(status: StatusReport) -> Iterator[Metric]:
    pending, positions = status.pending_orders, status.positions
    if pending is not None:
        gauge = GaugeMetricFamily("neverblink_pending_orders", "Orders not in a terminal state")
        gauge.add_metric([], float(len(pending)))
        yield gauge
    if positions is not None:
        fills = CounterMetricFamily("neverblink_fills", "Fills applied to positions")
        fills.add_metric([], float(sum(p.fill_count for p in positions)))
        yield fills
        pnl = GaugeMetricFamily("neverblink_realized_pnl", "Realized PnL of settled markets")
        pnl.add_metric([], sum(float(p.realized_pnl) for p in positions))
        yield pnl


def make_registry(service: ControlService) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NeverblinkCollector(service))
    return registry


@router.get("/metrics", tags=["read"], dependencies=[Depends(read_access)],
            response_class=Response, summary="Prometheus metrics")  # fmt: skip
def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _tick_histogram(runners: list[RunnerRow]) -> Metric:
    """Tick durations per replica, from the cumulative buckets each runner reports."""
    family = HistogramMetricFamily(
        "neverblink_tick_duration_seconds", "Duration of runner ticks", labels=["replica"]
    )
    for row in runners:
        timing = row.tick_seconds
        if not timing.buckets:
            continue
        pairs = [(str(float(le)), float(count)) for le, count in timing.buckets]
        pairs.append(("+Inf", float(timing.count)))
        family.add_metric([row.replica], pairs, timing.sum)
    return family
