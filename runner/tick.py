"""One tick of a runner, callable directly from a test.

1. read desired state     2. rewire imports      3. leases
4. snapshot (one trip)     5. books               6. decide
7. commit, submit, fills   8. heartbeat + status
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange.errors import VenueError
from runner import (
    discovery,
    guard,
    leases,
    lifecycle,
    orders,
    risk,
    strikes,
    venue_faults,
    venue_heartbeat,
)
from runner import markets as mk
from runner.adopt import Adopter
from runner.books import stale_tokens, status_record, take_books, without_stale_entries
from runner.control_read import config_problem, read_desired
from runner.flatten import flatten_markets
from runner.health import clear_if_operator_acted, halt
from runner.manifest import manifest_entry
from runner.memory import current_memory, read_memories, remember
from runner.published import sync_published
from runner.repairs import RepairLog
from runner.runtime import Runtime
from runner.strategy_call import StrategyOutcome
from runner.user_stream import expect_trades, take_fills
from runner.venue_sync import sync_orders
from runner.view_builder import market_view, strategy_view
from state_store import param_spec
from state_store.converge import converge
from state_store.desired import DesiredState
from state_store.errors import OperationalError
from state_store.manifest import ManifestEntry, publish
from state_store.models import MarketSnapshot, Window
from state_store.status import RunnerCode, RunnerStatus, heartbeat, write_status_file
from state_store.view import MarketView, View

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    tick: int
    paused: bool
    generation: str
    markets: int
    outcomes: list[StrategyOutcome] = field(default_factory=list)
    created: int = 0
    fills: int = 0
    reloads: list[ManifestEntry] = field(default_factory=list)


def run_tick(rt: Runtime) -> TickReport:
    began = time.perf_counter()
    rt.tick += 1
    converge(rt.client, rt.settings, check=lambda state: config_problem(rt, state))
    desired = read_desired(rt)
    clear_if_operator_acted(rt, desired)
    check_redis(rt)  # Redis went backwards: hold orders, rebuild from the venue, resume
    reloads = rewire(rt, desired)
    now = rt.venue.server_time()
    rt.venue_clock.observe(now, time.time())
    windows = discovery.tick_windows(rt, now)  # found on Gamma before they open, or listed
    strikes.publish_prices(rt)  # the price stream's new points, into Redis for every replica
    strikes.record_strikes(rt, windows, now)
    replicas = mk.live_replicas(rt.store, rt.config.replica)
    markets = [w.market for w in windows]
    rt.leases = leases.refresh(
        rt.store, rt.config.replica, markets, rt.leases, rt.config.lease_ttl_ms, replicas
    )
    venue_heartbeat.beat(rt)  # one replica, the lease holder, keeps the book alive
    adopter = Adopter(rt.store, rt.venue, RepairLog(rt.store, rt.settings, rt.config.replica))
    fills = take_fills(rt, adopter)  # before the snapshot: strategies decide with every fill known
    sync_with_venue(rt, adopter)  # orders the venue ended, resting orders Redis lost
    snaps = rt.store.snapshot(sorted(rt.leases))
    report = TickReport(rt.tick, not desired.entries_allowed, generation(rt), len(rt.leases))
    report.fills = fills
    trade(rt, desired, snaps, now, report)
    housekeeping(rt, snaps, now, report)
    reloads += feedback(rt, report.outcomes)
    report.reloads = reloads
    guard.bump(rt)  # after every write of the tick (see runner.guard)
    rt.counters.tick_durations.observe(time.perf_counter() - began)
    publish_status(rt, reloads)
    return report


def check_redis(rt: Runtime) -> None:
    """The data guard (runner.guard); a rebuild the venue refuses (bad credentials) halts
    trading and is tried again at the next tick (not while halted: no orders then anyway)."""
    if rt.halt is not None:
        return
    try:
        guard.check(rt)
    except OperationalError as exc:
        halt(rt, exc)


def sync_with_venue(rt: Runtime, adopter: Adopter) -> None:
    """The venue order sync, best effort: a venue error waits for the next pass, an
    operational one halts trading (as for fills) and the tick goes on."""
    if rt.halt is not None:
        return
    try:
        sync_orders(rt, adopter)
    except OperationalError as exc:
        halt(rt, exc)
    except VenueError as exc:
        log.warning("venue order sync failed, next pass: %s", exc)


def rewire(rt: Runtime, desired: DesiredState) -> list[ManifestEntry]:
    """Switch to the published code version at this tick boundary (when the folder holds it)."""
    if desired.reload_seq != rt.seen_reload_seq:
        if rt.seen_reload_seq >= 0:
            rt.reloader.request_reload()
        rt.seen_reload_seq = desired.reload_seq
    sync_published(rt)  # the publisher validated it once for every replica
    events = rt.reloader.at_tick_boundary(rt.tick)
    return [manifest_entry(e, rt.config.replica) for e in events]


def generation(rt: Runtime) -> str:
    current = rt.reloader.current
    return str(current.generation) if current is not None else ""


def trade(
    rt: Runtime, desired: DesiredState, snaps: Mapping[str, MarketSnapshot], now: float,
    report: TickReport,
) -> None:  # fmt: skip
    """Steps 5-7: books, decide, commit and submit."""
    windows: dict[str, Window] = {
        m: s.window for m, s in snaps.items() if s.window is not None and s.window.end_ts > now
    }
    tokens = [tok for w in windows.values() for tok in (w.up_token, w.down_token)]
    books = take_books(rt, tokens)  # the market channel's, REST for what it cannot serve
    stale = stale_tokens(rt)
    refs = strikes.reference_prices(rt, {w.asset for w in windows.values()})
    views = tuple(
        v for m in windows if (v := market_view(snaps[m], books, refs, now, stale)) is not None
    )
    if rt.guard.holding:  # another replica is rebuilding Redis from the venue
        log.warning("no new orders this tick: %s", rt.guard.holding)
        return
    stats = orders.OrderStats()
    placing = rt.halt is None and venue_faults.may_place(rt.restriction, time.time())
    if placing:  # repairing may post again: not while halted or restricted by the venue
        repair_stuck(rt, snaps, now, stats)
    if desired.flatten_seq > 0:
        bids = {tok: b.best_bid for tok, b in books.items() if b.best_bid is not None}
        live = {m: snaps[m] for m in windows}
        flatten_markets(rt.store, rt.venue, desired.flatten_seq, live, rt.leases, bids)
    if desired.entries_allowed and views and placing:
        report.outcomes = decide_all(rt, desired, views, now)
        stale_markets = {v.market for v in views if v.stale}
        planned = [
            p
            for o in without_stale_entries(rt, report.outcomes, stale_markets)
            for p in orders.plan(rt.store, rt.venue, o.name, o.intents, windows, rt.leases)
        ]
        limits = risk.check(rt, desired, windows, books, now)  # the loss limit may pause
        screened = limits.screen(planned, stats)
        wait = orders.ReplicaWait(rt.config.wait_replicas, rt.config.wait_timeout_ms)
        orders.commit_and_submit(rt.store, rt.venue, screened, stats, limits.entry_limits, wait)
        risk.count(rt, stats)
    expect_trades(rt, stats.trade_ids)  # the user channel must report them (runner.user_stream)
    report.created = stats.created
    rt.counters.orders_created += stats.created


def decide_all(
    rt: Runtime, desired: DesiredState, views: tuple[MarketView, ...], now: float
) -> list[StrategyOutcome]:
    """Every strategy of the current generation decides, in the strategy host (HostCaller);
    their intents are checked here, in the runner, against the views it built."""
    code = rt.reloader.current
    if code is None:
        return []
    stored = read_memories(rt.client, rt.store.keys, sorted(code.strategies))
    calls: dict[str, View] = {}
    failed: list[StrategyOutcome] = []
    writable: set[str] = set()
    for name, strategy in code.strategies.items():
        params = merged_params(strategy.params, desired.config.get(name, {}))
        try:
            memory, may_write = current_memory(
                rt.client, rt.store.keys, name, stored[name], strategy.memory_version,
                strategy.migrate,
            )  # fmt: skip
        except Exception as exc:  # migrate runs in the host; its failure is this strategy's
            failed.append(StrategyOutcome(name, error=f"migrate failed: {exc}"[:500]))
            continue
        if may_write:
            writable.add(name)
        calls[name] = strategy_view(name, rt.tick, now, views, params, memory)
    outcomes = rt.caller.call_all(code.generation, calls)
    for fault in rt.caller.faults:
        log.warning("strategy host fault: %s", fault)
    for outcome in outcomes:
        if outcome.remember and not outcome.failed and outcome.name in writable:
            remember(rt.client, rt.store.keys, outcome.name, outcome.remember)
    return outcomes + failed


def merged_params(declared: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """PARAMS defaults (a `Param` gives its default) with the operator's overrides; unknown
    keys, wrong types and values outside a `Param`'s limits are ignored here (the control
    plane refuses them when they are set, the runner reports them in status)."""
    merged = param_spec.defaults(declared)
    for key, value in overrides.items():
        spec = param_spec.spec_of(declared[key]) if key in declared else None
        if spec is not None and not param_spec.value_problem(spec, value):
            merged[key] = value
    return merged


def housekeeping(
    rt: Runtime, snaps: Mapping[str, MarketSnapshot], now: float, report: TickReport
) -> None:
    """Ended windows, settlement jobs for closed windows (inline without a worker)."""
    from runner import settlement

    close_ended(rt, now)
    settlement.schedule(rt)


def close_ended(rt: Runtime, now: float) -> None:
    """Close every open window whose end passed and expire its orders (any replica may)."""
    lifecycle.close_ended_windows(rt.store, rt.venue, now)


def repair_stuck(
    rt: Runtime, snaps: Mapping[str, MarketSnapshot], now: float, stats: orders.OrderStats
) -> None:
    """Orders a crash left in new/submitted on this replica's markets: adopt or post again.

    One order's venue trouble does not hold up the others (or the rest of the tick).
    """
    for snap in snaps.values():
        lease = rt.leases.get(snap.market)
        for order in snap.open_orders:
            if order.status not in lifecycle.STUCK or lease is None:
                continue
            try:
                lifecycle.repair_stuck(rt.store, rt.venue, order, snap.window, now, lease, stats)
            except OperationalError:
                raise  # not one order's trouble: the loop halts trading
            except VenueError as exc:
                if venue_faults.restricted(rt.restriction, exc, time.time()):
                    return  # the venue takes no orders now: the rest waits too
                log.warning("repairing %s failed, next tick: %s", order.client_order_id, exc)


def feedback(rt: Runtime, outcomes: list[StrategyOutcome]) -> list[ManifestEntry]:
    """Count strategy failures; let the reloader judge a version on probation."""
    failures = {}
    for outcome in outcomes:
        if outcome.failed:
            if not outcome.overrun:  # an overrun (a loaded machine?) is shown, not rolled back
                failures[outcome.name] = outcome.error
            c = rt.counters
            c.strategy_errors[outcome.name] = c.strategy_errors.get(outcome.name, 0) + 1
            c.last_errors[outcome.name] = outcome.error
            if outcome.overrun:
                c.overruns[outcome.name] = c.overruns.get(outcome.name, 0) + 1
    # probation advances only on ticks where the strategy ran to the end (an overrun neither
    # fails a version nor lets it pass: it stays on probation, visible in status)
    ran = [o.name for o in outcomes if not o.overrun]
    events = rt.reloader.report_tick(rt.tick, failures, ran=ran)
    return [manifest_entry(e, rt.config.replica) for e in events]


def status_section(rt: Runtime) -> RunnerStatus:
    code = rt.reloader.current
    c = rt.counters
    return RunnerStatus(
        replica=rt.config.replica,
        pid=rt.pid,
        tick=rt.tick,
        last_tick_at=round(rt.last_tick_at, 3),
        heartbeat=round(time.time(), 3),
        paused=rt.paused,
        degraded=rt.degraded,
        control_error=rt.control_error,
        operational_error=rt.halt.reason if rt.halt else "",
        operational_error_since=_rounded(rt.halt.since if rt.halt else None),
        venue_unresponsive_since=_rounded(rt.venue_health.unresponsive_since),
        venue_error=rt.venue_health.error,
        venue_restriction=rt.restriction.current(time.time()),
        venue_restriction_reason=rt.restriction.reason,
        venue_restriction_since=_rounded(rt.restriction.since),
        code=RunnerCode(
            generation=code.generation if code else "",
            files=dict(code.files) if code else {},
            git_sha=code.git_sha if code else "",
            git_dirty=code.git_dirty if code else False,
            on_probation=bool(rt.reloader.on_probation),
        ),
        strategies=sorted(code.strategies) if code else [],
        markets=sorted(rt.leases),
        venue_clock=rt.venue_clock.to_json(),
        strategy_errors=dict(c.strategy_errors),
        overruns=dict(c.overruns),
        last_errors=dict(c.last_errors),
        orders_created=c.orders_created,
        fills_applied=c.fills_applied,
        fills_reversed=c.fills_reversed,
        trade_polls=rt.user_stream.polls,
        user_stream=user_stream_state(rt),
        books=status_record(rt),
        tick_seconds=c.tick_durations.to_record(),
        tick_gaps=c.tick_gaps.to_record(),
        loop_errors=c.loop_errors,
        last_loop_error=c.last_loop_error,
        venue_errors=c.venue_errors,
        last_venue_error=c.last_venue_error,
        data_guard=guard.status_record(rt),
        risk_refused=dict(rt.risk.refused),
        risk_day_pnl=dict(rt.risk.day_pnl),
        risk_breached=list(rt.risk.breached),
        window_source="gamma" if rt.discovery is not None else "listing",
        gamma_requests=rt.discovery.requests if rt.discovery is not None else 0,
        unlisted_windows=rt.discovery.unlisted_report() if rt.discovery is not None else {},
    )


def user_stream_state(rt: Runtime) -> str:
    """connected (fills from the stream alone), catching up (connected, /data/trades polled
    until caught up), down (polled), or "" without a user channel."""
    channel = rt.feeds.user if rt.feeds is not None else None
    if channel is None:
        return ""
    if not channel.connected:
        return "down"
    caught_up = channel.connects == rt.user_stream.caught_up_connects
    return "connected" if caught_up else "catching up"


def _rounded(ts: float | None) -> float | None:
    return None if ts is None else round(ts, 3)


def publish_status(rt: Runtime, reloads: list[ManifestEntry]) -> None:
    rt.last_tick_at = time.time()
    section = status_section(rt)
    if not rt.degraded:
        publish(rt.client, rt.store.keys, reloads)
        ttl = max(rt.config.lease_ttl_ms, int(rt.config.tick_s * 3000))
        heartbeat(rt.client, rt.store.keys, rt.config.replica, section, ttl)
    write_status_file(rt.settings.status_file, rt.config.replica, section, reloads)
