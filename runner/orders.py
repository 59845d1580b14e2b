"""From intents to venue orders and back: commit, submit, reconcile, apply fills.

The order of work makes a crash anywhere harmless:
1. the order is created in Redis (Lua, fenced, idempotent by client order id)
   together with the venue order id its signed body will have;
2. it is marked submitted, then posted (posting is idempotent at the venue);
3. the venue's answer is recorded; fills arrive through the trades feed and
   are applied by fill id.
With replicas (a Sentinel topology), step 1 ends with `WAIT` (`ReplicaWait`):
an order reaches the venue only once the replicas hold its creation, so a
failover cannot lose the record of an order the venue has (which a later tick
would then place a second time under the same client order id). By default
(`ALL_CONNECTED`) every replica connected to the master must acknowledge (at
least one): whichever one Sentinel promotes has the order. Orders whose
creation was not acknowledged in time are rejected, never posted.
A restarted runner finds orders left in `new`/`submitted` and asks the venue
about them by their deterministic id (`runner.lifecycle.repair_stuck`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from exchange.errors import InsufficientBalance, OrderRejected
from exchange.types import OrderRequest, PlaceResult, VenueFill
from exchange.venue import Venue
from state_store import transitions as t
from state_store.errors import OperationalError
from state_store.models import TERMINAL_STATUSES, Fill, Intent, Order, Window
from state_store.store import Lease, Result, Store

log = logging.getLogger(__name__)

TERMINAL = {s.value for s in TERMINAL_STATUSES}


@dataclass(frozen=True)
class Planned:
    """An intent bound to its market window, lease and ids."""

    strategy: str
    intent: Intent
    window: Window
    lease: Lease
    coid: str
    request: OrderRequest


ALL_CONNECTED = -1  # ReplicaWait.replicas: every replica the master has now, at least one


@dataclass(frozen=True)
class ReplicaWait:
    """`WAIT replicas timeout_ms` after creating orders, before posting them (0: no wait;
    `ALL_CONNECTED`: as many as the master has connected now, at least one)."""

    replicas: int = 0
    timeout_ms: int = 250


NO_WAIT = ReplicaWait()


@dataclass
class OrderStats:
    created: int = 0
    rejected: int = 0
    fenced: int = 0
    fills: int = 0
    unreplicated: int = 0  # created, but no replica acknowledged in time: rejected, not posted
    refused: dict[str, int] = field(default_factory=dict)  # by the limit ("bot.max_shares")
    trade_ids: list[str] = field(default_factory=list)  # trades the venue made at placement


IMMEDIATE = ("FAK", "FOK")  # whatever does not match at once is killed by the venue


def plan(
    store: Store,
    venue: Venue,
    strategy: str,
    intents: Iterable[Intent],
    windows: Mapping[str, Window],
    leases: Mapping[str, Lease],
) -> list[Planned]:
    out: list[Planned] = []
    for intent in intents:
        window, lease = windows.get(intent.market), leases.get(intent.market)
        if window is None or lease is None:
            continue
        coid = store.client_order_id(strategy, intent, window)
        if any(p.coid == coid for p in out):
            continue  # the same intent key twice in one tick is one order
        request = OrderRequest(
            coid, window.token_for(intent.outcome), intent.side, intent.price, intent.size,
            intent.order_type,
        )  # fmt: skip
        out.append(Planned(strategy, intent, window, lease, coid, request))
    return out


#: The risk limits a strategy's orders are created under (runner.risk)
LimitsOf = Callable[[str], t.EntryLimits]


def commit_and_submit(
    store: Store,
    venue: Venue,
    planned: Sequence[Planned],
    stats: OrderStats,
    limits: LimitsOf | None = None,
    wait: ReplicaWait = NO_WAIT,
) -> None:
    """Create every planned order in one round trip (with `wait`: replicated), then submit
    the new ones; with `limits`, a BUY that would break a risk limit is refused in Redis
    and never posted."""
    ids = {p.coid: venue.order_id_for(p.request) for p in planned}
    calls = [
        t.create_order(
            store.keys,
            p.coid,
            p.strategy,
            p.intent,
            p.window,
            p.lease,
            ids[p.coid],
            limits(p.strategy) if limits is not None else None,
        )
        for p in planned
    ]
    wait = ReplicaWait(replicas_to_wait_for(store, wait), wait.timeout_ms)
    results, acked = create(store, calls, wait)
    created: list[Planned] = []
    for p, result in zip(planned, results, strict=True):
        if result.outcome == "created":
            created.append(p)
        elif result.outcome == "fenced":
            stats.fenced += 1
            log.warning("lease on %s lost before creating %s", p.intent.market, p.coid)
        elif result.outcome == "refused":
            stats.refused[result.detail] = stats.refused.get(result.detail, 0) + 1
            log.debug("risk limit %s refused %s (%s)", result.detail, p.coid, p.intent.key)
    if created and acked < wait.replicas:
        reject_unreplicated(store, created, acked, wait, stats)
        return
    for p in created:
        stats.created += 1
        submit(store, venue, p.coid, p.intent.market, p.request, stats, p.lease)


def replicas_to_wait_for(store: Store, wait: ReplicaWait) -> int:
    """`wait.replicas`, or for `ALL_CONNECTED` the replicas the master lists now (ROLE)."""
    if wait.replicas != ALL_CONNECTED:
        return wait.replicas
    role = store.client.execute_command("ROLE")  # type: ignore[no-untyped-call]
    connected = len(role[2]) if role[0] in ("master", b"master") else 0
    return max(connected, 1)


def create(store: Store, calls: Sequence[t.Call], wait: ReplicaWait) -> tuple[list[Result], int]:
    """The create_order results and how many replicas acknowledged them (0 when no WAIT
    is asked for)."""
    if wait.replicas <= 0:
        return store.execute(calls), 0
    return store.execute_replicated(calls, wait.replicas, wait.timeout_ms)


def reject_unreplicated(
    store: Store, created: Sequence[Planned], acked: int, wait: ReplicaWait, stats: OrderStats
) -> None:
    """No replica holds these creations: a failover now would forget orders the venue has.
    They are rejected instead of posted (the rejection may be lost too: then so is the
    order, which never reached the venue)."""
    error = (
        f"not replicated: {acked} of {wait.replicas} replicas acknowledged within "
        f"{wait.timeout_ms} ms (WAIT); not posted"
    )
    log.warning("%d new orders %s", len(created), error)
    stats.unreplicated += len(created)
    stats.rejected += len(created)
    for p in created:
        store.ack_order(p.coid, p.intent.market, "rejected", error=error)


def submit(
    store: Store,
    venue: Venue,
    coid: str,
    market: str,
    req: OrderRequest,
    stats: OrderStats,
    lease: Lease,
) -> None:
    """Mark submitted (fenced: only while `lease` is current), post, record the answer."""
    marked = store.ack_order(coid, market, "submitted", lease=lease)
    if marked.outcome == "fenced" or (marked.outcome == "noop" and marked.detail in TERMINAL):
        stats.fenced += 1
        log.warning("not posting %s: %s (%s)", coid, marked.outcome, marked.detail)
        return
    try:
        placed = venue.place(req)
    except InsufficientBalance as exc:  # the next order would be refused too: stop the tick
        stats.rejected += 1
        store.ack_order(coid, market, "rejected", error=str(exc)[:500])
        raise
    except OrderRejected as exc:
        stats.rejected += 1
        store.ack_order(coid, market, "rejected", error=str(exc)[:500])
        return
    except OperationalError as exc:  # refused before it was placed; the loop halts trading
        stats.rejected += 1
        store.ack_order(coid, market, "rejected", error=str(exc)[:500])
        raise
    if placed.success:
        stats.trade_ids.extend(placed.trade_ids)
    record_placement(store, venue, coid, market, req.order_type, placed)


def record_placement(
    store: Store, venue: Venue, coid: str, market: str, order_type: str, placed: PlaceResult
) -> None:
    if not placed.success:
        store.ack_order(coid, market, "rejected", placed.order_id, placed.error[:500])
        return
    if placed.status == "delayed":
        store.ack_order(coid, market, "submitted", placed.order_id)
        return
    acked = store.ack_order(coid, market, "live", placed.order_id)
    if acked.outcome == "noop" and acked.detail in ("cancelled", "expired"):
        # ended in Redis (flatten, window close) while the post was in flight: end it there too
        venue.cancel(placed.order_id)
    elif placed.status not in ("live", "matched") or order_type in IMMEDIATE:
        # unmatched or canceled, or a FAK/FOK whose remainder the venue killed: the order
        # is over; fills still count (and move it to filled if they complete it)
        store.cancel_order(coid, market, "cancelled", f"{order_type} {placed.status}")


#: Applies fills whose venue order Redis does not map (runner.adopt.restore_fills); returns
#: how many it applied.
OrphanFills = Callable[[Sequence[VenueFill]], int]


def apply_venue_fills(
    store: Store,
    fills: Sequence[VenueFill],
    orphans: OrphanFills | None = None,
    reversed_fills: list[Fill] | None = None,
) -> int:
    """Record venue fills of our orders (by venue order id); returns how many were new.

    A fill of a FAILED trade is reversed instead (`reverse_fill.lua`, idempotent): the
    ones this call reversed are appended to `reversed_fills`, for the audit. A fill seen
    again with a later trade status (MATCHED -> CONFIRMED) moves its status forward.
    Fills of venue orders Redis does not map (their create was lost with Redis) go to
    `orphans`, which adopts them; without it they are left out (and logged). A FAILED
    fill of an order Redis does not know is no fill: nothing to adopt or undo.
    """
    if not fills:
        return 0
    pipe = store.client.pipeline(transaction=False)
    for fill in fills:
        pipe.hget(store.keys.venue_orders, fill.order_id)
    coids = pipe.execute()
    orders = {c: store.order(c) for c in set(coids) if c}
    calls, records, unmapped = [], [], []
    for fill, coid in zip(fills, coids, strict=True):
        order = orders.get(coid) if coid else None
        if order is None:
            if not fill.failed:
                unmapped.append(fill)
            continue
        try:
            record = to_fill(fill, order)
            calls.append(t.record_fill(store.keys, record))
        except (ValueError, ArithmeticError) as exc:  # e.g. a size finer than 1e-6
            log.error("venue fill %s cannot be recorded, skipped: %s", fill.fill_id, exc)
            continue
        records.append(record)
    results = store.execute(calls)
    applied = sum(r.outcome == "applied" for r in results)
    if reversed_fills is not None:
        reversed_fills.extend(
            f for f, r in zip(records, results, strict=True) if r.outcome == "reversed"
        )
    if unmapped and orphans is not None:
        applied += orphans(unmapped)
    elif unmapped:
        log.warning("%d venue fills of orders Redis does not know, not applied", len(unmapped))
    return applied


def to_fill(fill: VenueFill, order: Order) -> Fill:
    return Fill(
        fill.fill_id, order.client_order_id, order.market, order.outcome, order.side,
        fill.price, fill.size, fill.ts, fill.order_id, fill.fee, fill.status,
    )  # fmt: skip


def poll_fills(
    store: Store,
    venue: Venue,
    orphans: OrphanFills | None = None,
    reversed_fills: list[Fill] | None = None,
) -> tuple[int, str | None]:
    """Fetch fills after the bot's cursor, apply them (`orphans` adopts the ones of orders
    Redis lost; FAILED ones are reversed), then advance the cursor. Returns how many were
    new and the cursor in force.
    """
    raw = store.client.get(store.keys.fill_cursor)
    cursor = str(raw) if raw else None
    fills, next_cursor = venue.fills_since(cursor)
    applied = apply_venue_fills(store, fills, orphans, reversed_fills)
    if next_cursor and next_cursor != cursor:
        store.client.set(store.keys.fill_cursor, next_cursor)
        cursor = next_cursor
    return applied, cursor
