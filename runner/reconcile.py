"""Reconciliation: compare the bot's Redis orders and fills with the venue's, repair the gaps.

Run periodically by an rq job (runner.jobs.reconcile_job); every repair is an
audit entry (runner.repairs). What it repairs, in this order:

1. fills: the venue's trades since the reconciliation cursor (from the
   beginning the first time; `nb:{B}:cursor:reconcile` keeps the last two, and
   each run starts from the older, so every period is compared twice) that
   Redis lacks are applied through `apply_fill.lua` (idempotent by fill id). A
   fill found missing is looked at again `RECHECK_S` later, so one a runner is
   applying right now is not reported as a repair. A fill of a venue order
   Redis does not know (its create was lost with Redis) adopts that order
   (runner.adopt): never skipped. A trade the venue marks FAILED whose fill Redis
   applied is reversed (`reverse_fill.lua`), audited as `fill_reversed` (the entry
   a runner writes when the user channel tells it first, so there is one);
2. orders left `new`/`submitted` for `STUCK_AFTER_S`: repaired by the runners'
   own rule (runner.lifecycle.repair_stuck, without posting): the venue's view
   is adopted (by the deterministic venue order id); an order the venue never
   saw is expired once its window is over or after `lifecycle.EXPIRE_AFTER_S`
   (until then the runner holding the market's lease posts it again itself);
3. orders Redis thinks live that the venue has canceled: ended in Redis;
4. orders open at the venue that Redis thinks terminal (a runner frozen
   between create and post, whose order was expired meanwhile): canceled at the
   venue; orders open at the venue that Redis does not know: adopted;
5. windows past their end while no runner is alive: closed by the runners' own
   rule (runner.lifecycle.close_ended_windows), their settlement jobs enqueued;
6. closed windows whose settlement job is missing or dead: a fresh job.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import redis

from exchange.errors import VenueError
from exchange.types import VenueFill, VenueOrder
from exchange.venue import Venue
from runner import jobs, lifecycle
from runner.adopt import Adopter, audit_reversal
from runner.orders import to_fill
from runner.repairs import RepairLog
from state_store import transitions as t
from state_store.models import Order, OrderStatus
from state_store.store import Store
from state_store.transitions import FAILED_TRADE

FINAL = ("CONFIRMED", FAILED_TRADE)

log = logging.getLogger(__name__)

RECHECK_S = 2.0
STUCK_AFTER_S = 30.0
REARM_AFTER_S = 60.0
WORKING = (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED)


class Reconciler:
    def __init__(
        self,
        store: Store,
        venue: Venue,
        target: jobs.JobTarget,
        conn: redis.Redis,
        recheck_s: float = RECHECK_S,
        stuck_after_s: float = STUCK_AFTER_S,
    ) -> None:
        self.store = store
        self.venue = venue
        self.target = target
        self.conn = conn
        self.recheck_s = recheck_s
        self.stuck_after_s = stuck_after_s
        self.repairs = RepairLog(store, target.settings())
        self.adopter = Adopter(store, venue, self.repairs)
        self.counts: Counter[str] = Counter()

    def run(self) -> dict[str, int]:
        self.fills()
        open_at_venue = {o.order_id: o for o in self.venue.open_orders()}
        self.orders(open_at_venue)
        self.venue_orders(open_at_venue)
        self.ended_windows()
        self.settlements()
        return dict(sorted(self.counts.items()))

    # -- 1. fills --------------------------------------------------------------
    def fills(self) -> None:
        """Scan from the cursor the run before last started from: every period is looked at
        twice, so a trade the venue records late (with an earlier match time) is not missed."""
        key = self.store.keys.reconcile_cursor
        start, previous = _cursor_pair(self.store.client.get(key))
        found, next_cursor = self.venue.fills_since(start)
        self.counts["fills_checked"] += len(found)
        fills = [f for f in found if not f.failed]
        self._reverse_failed([f for f in found if f.failed])
        self._confirm(fills)
        missing = self._missing(fills)
        if missing and self.recheck_s > 0:
            time.sleep(self.recheck_s)
            missing = self._missing(missing)
        for fill in missing:
            self._apply(fill)
        self.store.client.set(key, json.dumps([previous, next_cursor]))

    def _reverse_failed(self, failed: Sequence[VenueFill]) -> None:
        """Fills Redis applied whose trade the venue now marks FAILED: reverse them."""
        for venue_fill in failed:
            applied = self.store.fill(venue_fill.fill_id)
            if applied is None or applied.trade_status == FAILED_TRADE:
                continue
            result = self.store.reverse_fill(applied)
            if result.outcome == "reversed":
                self.counts["fills_reversed"] += 1
                audit_reversal(self.repairs, applied)

    def _confirm(self, fills: Sequence[VenueFill]) -> None:
        """Move the trade status of applied fills forward to the venue's (a CONFIRMED the
        user channel lost while it was down); apply_fill.lua never moves one back."""
        pipe = self.store.client.pipeline(transaction=False)
        for fill in fills:
            pipe.hget(self.store.keys.fill(fill.fill_id), "trade_status")
        behind = [
            f for f, known in zip(fills, pipe.execute(), strict=True)
            if known is not None and f.status and known != f.status and known not in FINAL
        ]  # fmt: skip
        calls = []
        for fill in behind:
            stored = self.store.fill(fill.fill_id)
            if stored is not None:
                calls.append(
                    t.apply_fill(self.store.keys, replace(stored, trade_status=fill.status))
                )
        moved = sum(bool(r.detail) for r in self.store.execute(calls))
        if moved:
            self.counts["fill_statuses_updated"] += moved

    def _missing(self, fills: Sequence[VenueFill]) -> list[VenueFill]:
        pipe = self.store.client.pipeline(transaction=False)
        for fill in fills:
            pipe.exists(self.store.keys.fill(fill.fill_id))
        return [f for f, known in zip(fills, pipe.execute(), strict=True) if not known]

    def _apply(self, fill: VenueFill) -> None:
        coid = self.store.coid_for_venue_order(fill.order_id)
        order = self.store.order(coid) if coid else None
        if order is None:  # Redis lost its create: adopt the venue's order (audited), never skip
            before = self.adopter.adopted
            order = self.adopter.order_for_fill(fill)
            self.counts["orders_adopted"] += self.adopter.adopted - before
            if order is None:
                self.counts["fills_unplaced"] += 1
                return
        result = self.store.run(t.apply_fill(self.store.keys, to_fill(fill, order)))
        if result.outcome != "applied":
            return
        self.counts["fills_repaired"] += 1
        self.repairs.record(
            "repair_fill", f"fill:{fill.fill_id}",
            {"fill_id": fill.fill_id, "client_order_id": order.client_order_id,
             "market": order.market, "side": order.side, "price": str(fill.price),
             "size": str(fill.size), "status": result.detail},
        )  # fmt: skip

    # -- 2 and 3. Redis orders not yet terminal --------------------------------
    def orders(self, open_at_venue: dict[str, VenueOrder]) -> None:
        now, venue_now = time.time(), self.venue.server_time()
        for order in self.store.pending_orders():
            if now - (order.updated_at or order.created_at) < self.stuck_after_s:
                continue
            if order.status in lifecycle.STUCK:
                self._stuck(order, venue_now)
            elif order.status in WORKING and order.venue_order_id not in open_at_venue:
                self._gone(order)

    def _stuck(self, order: Order, venue_now: float) -> None:
        """The runners' own rule set (runner.lifecycle.repair_stuck), without posting."""
        window = self.store.window(order.market)
        try:
            repair = lifecycle.repair_stuck(self.store, self.venue, order, window, venue_now)
        except VenueError as exc:
            log.warning("repair of %s postponed: %s", order.client_order_id, exc)
            return
        coid, market = order.client_order_id, order.market
        if repair == "adopted":
            self.counts["orders_adopted"] += 1
            found = self.store.order(coid)
            status = found.status.value if found else ""
            args = {"client_order_id": coid, "market": market, "venue_status": status}
            self.repairs.record("repair_order_adopted", f"adopt:{coid}", args)
        elif repair == "expired":
            self.counts["orders_expired"] += 1
            args = {"client_order_id": coid, "market": market, "was": order.status.value}
            self.repairs.record("repair_order_expired", f"expire:{coid}", args)

    def _gone(self, order: Order) -> None:
        if lifecycle.end_canceled(self.store, self.venue, order, self.repairs):
            self.counts["orders_closed"] += 1

    # -- 4. open at the venue, over in Redis -----------------------------------
    def venue_orders(self, open_at_venue: dict[str, VenueOrder]) -> None:
        for venue_id in open_at_venue:
            coid = self.store.coid_for_venue_order(venue_id)
            order = self.store.order(coid) if coid else None
            if order is None:  # resting at the venue, its create lost with Redis: adopt it
                if self.adopter.adopt(open_at_venue[venue_id]) is not None:
                    self.counts["venue_orders_adopted"] += 1
                continue
            if not order.status.terminal:
                continue
            try:
                canceled = self.venue.cancel(venue_id)
            except VenueError as exc:
                log.warning("cancel of venue order %s failed: %s", venue_id, exc)
                continue
            if canceled:
                self.counts["venue_orders_cancelled"] += 1
                args = {"client_order_id": order.client_order_id, "market": order.market,
                        "venue_order_id": venue_id, "redis_status": order.status.value}  # fmt: skip
                self.repairs.record("repair_venue_cancel", f"venue_cancel:{venue_id}", args)

    # -- 5. ended windows nobody closed ----------------------------------------
    def ended_windows(self) -> None:
        if self._runners_alive():
            return  # runners close ended windows themselves, within a tick
        now = self.venue.server_time()
        note = "window ended (reconciliation)"
        closed = lifecycle.close_ended_windows(self.store, self.venue, now, note)
        for window in closed:
            self.counts["windows_closed"] += 1
            args = {"market": window.market, "orders_expired": window.orders_ended}
            self.repairs.record("repair_window_closed", f"close_window:{window.market}", args)
        jobs.ensure_settlement_jobs(self.conn, self.target, [w.market for w in closed])

    def _runners_alive(self) -> bool:
        keys = self.store.keys
        members = [str(m) for m in self.store.client.smembers(keys.runners)]
        if not members:
            return False
        return bool(self.store.client.exists(*(keys.runner(m) for m in members)))

    # -- 6. settlement jobs that died ------------------------------------------
    def settlements(self) -> None:
        now = time.time()
        for market in self.store.unsettled_markets():
            closed_at = self.store.client.hget(self.store.keys.window(market), "closed_at")
            if now - _float(closed_at) < REARM_AFTER_S:
                continue
            status = jobs.settlement_job_status(self.conn, self.target.bot, market)
            if status is not None and status not in jobs.DEAD_STATUSES:
                continue
            if jobs.rearm_settlement(self.conn, self.target, market):
                self.counts["settlements_rearmed"] += 1
                was = status.value if status is not None else "missing"
                args = {"market": market, "job_was": was}
                self.repairs.record("repair_settlement_rearmed", f"rearm:{uuid.uuid4().hex}", args)


def _cursor_pair(raw: Any) -> tuple[str | None, str | None]:
    """(where to scan from, the cursor the last run ended at) from the stored JSON pair."""
    try:
        start, previous = json.loads(raw) if raw else (None, None)
    except (ValueError, TypeError):
        return None, None
    return start or previous or None, previous or None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
