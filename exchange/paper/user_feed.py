"""What one user-channel connection of the paper venue sends: its owner's orders and trades.

Order events (`event_type: order`) say PLACEMENT when an order appears,
UPDATE when its matched size grows, CANCELLATION when it is cancelled (or
killed, or expired). Trade events (`event_type: trade`) follow each trade
through its settlement statuses, one event per status:

    MATCHED -> MINED -> CONFIRMED        (a trade that settles)
    MATCHED -> RETRYING -> FAILED        (a trade the fault switch fails)

A trade's status is venue-wide (`TradeLifecycle`, timed from when a user
connection first saw it) and written back to the stored trade, so
/data/trades agrees with the stream; a FAILED trade is reversed (shares and
cash back as they were). A connection sends only what happens after it
subscribed: trades and orders from before are /data/*'s business.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, cast

from exchange.paper.engine import PaperEngine
from exchange.paper.models import PaperOrder
from exchange.paper.stream_faults import StreamFaults

Message = dict[str, Any]
SETTLES = ("MATCHED", "MINED", "CONFIRMED")
FAILS = ("MATCHED", "RETRYING", "FAILED")
FINAL = {"CONFIRMED", "FAILED"}


class TradeLifecycle:
    """Venue-wide settlement status of each trade a user connection has seen."""

    def __init__(
        self, engine: PaperEngine, faults: StreamFaults, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.faults = faults
        self.clock = clock
        self._seen: dict[str, tuple[float, bool]] = {}  # trade id -> (first seen, failing)
        self._written: dict[str, str] = {}
        self._lock = threading.Lock()

    def path(self, trade_id: str) -> tuple[str, ...]:
        with self._lock:
            failing = self._seen.get(trade_id, (0.0, False))[1]
        return FAILS if failing else SETTLES

    def status(self, trade_id: str) -> str:
        """The trade's status now (registering it, as MATCHED, when first seen)."""
        with self._lock:
            if trade_id not in self._seen:
                self._seen[trade_id] = (self.clock(), self.faults.take_fail())
            first, failing = self._seen[trade_id]
        settings = self.faults.settings
        elapsed = self.clock() - first
        step = (
            2
            if elapsed >= settings.confirmed_after_s
            else 1
            if elapsed >= settings.mined_after_s
            else 0
        )
        status = (FAILS if failing else SETTLES)[step]
        if self._written.get(trade_id) != status:
            self._write(trade_id, status)
        return status

    def in_flight(self) -> set[str]:
        with self._lock:
            return {t for t in self._seen if self._written.get(t) not in FINAL}

    def _write(self, trade_id: str, status: str) -> None:
        store = self.engine.store
        with self.engine.lock:
            raw = store.trades_json([trade_id])
            if not raw:
                return
            trade = json.loads(raw[0])
            if trade.get("status") == "FAILED":
                self._written[trade_id] = "FAILED"
                return
            trade["status"] = status
            trade["last_update"] = str(math.floor(self.engine.clock.now()))
            tx = store.tx()
            tx.hset(store.keys.trades, {trade_id: json.dumps(trade, separators=(",", ":"))})
            if status == "FAILED":
                _reverse(tx, store.keys, trade)
            tx.commit()
        self._written[trade_id] = status


def _reverse(tx: Any, keys: Any, trade: dict[str, Any]) -> None:
    """Undo a trade's holdings: our side's shares and cash as if it never matched."""
    ours = trade["side"] if trade.get("trader_side") == "TAKER" else _opposite(trade["side"])
    sign = 1 if ours == "BUY" else -1
    price, size = Decimal(trade["price"]), Decimal(trade["size"])
    pos_key, acct_key = keys.positions(trade["owner"]), keys.account(trade["owner"])
    shares = Decimal(tx.hget(pos_key, trade["asset_id"]) or "0") - sign * size
    cash = Decimal(tx.hget(acct_key, "cash") or "0") + sign * price * size
    tx.hset(pos_key, {trade["asset_id"]: str(shares)})
    tx.hset(acct_key, {"cash": str(cash)})


def _opposite(side: str) -> str:
    return "SELL" if side == "BUY" else "BUY"


class UserSession:
    def __init__(
        self,
        engine: PaperEngine,
        lifecycle: TradeLifecycle,
        owner: str,
        markets: Iterable[str],
    ) -> None:
        self.engine = engine
        self.store = engine.store
        self.lifecycle = lifecycle
        self.owner = owner
        self.markets = {m.lower() for m in markets}
        with engine.lock:
            now = engine.advance()
            self.since = math.floor(now)
            self.last_seq = self._max_seq()
            open_orders = [o for o in self.store.open_orders() if o.owner == owner]
        self.orders = {o.order_id: (o.status, o.size_matched) for o in open_orders}
        self.trade_status = {t: lifecycle.status(t) for t in lifecycle.in_flight()}
        self.done: set[str] = set()  # trades whose final status was sent

    def _max_seq(self) -> float:
        top = cast(
            list[tuple[str, float]],
            self.store.redis.zrange(
                self.store.keys.owner_orders(self.owner), -1, -1, withscores=True
            ),
        )
        return top[0][1] if top else 0.0

    def _wanted(self, market: str) -> bool:
        return not self.markets or market.lower() in self.markets

    def collect(self) -> list[Message]:
        with self.engine.lock:
            now = self.engine.advance()
            new_ids = self._new_order_ids()
            orders = self.store.orders([*self.orders, *new_ids])
            recent = self.store.owner_trade_ids(self.owner, self.since - 1)
            trade_ids = [
                t for t in dict.fromkeys([*self.trade_status, *recent]) if t not in self.done
            ]
            loaded = [json.loads(raw) for raw in self.store.trades_json(trade_ids)]
        trades = [t for t in loaded if t.get("owner") == self.owner]
        self.done.update(t["id"] for t in loaded if t.get("owner") != self.owner)
        placed = [o for o in orders if o.order_id not in self.orders]
        messages = [
            self._order_event(o, "PLACEMENT", now) for o in placed if self._wanted(o.market)
        ]
        for order in placed:
            self.orders[order.order_id] = ("LIVE", Decimal(0))
        for trade in trades:
            messages.extend(self._trade_events(trade, now))
        for order in orders:
            messages.extend(self._order_changes(order, now))
        return messages

    def _new_order_ids(self) -> list[str]:
        rows = cast(
            list[tuple[str, float]],
            self.store.redis.zrangebyscore(
                self.store.keys.owner_orders(self.owner),
                f"({self.last_seq}",
                "+inf",
                withscores=True,
            ),
        )
        if rows:
            self.last_seq = rows[-1][1]
        return [order_id for order_id, _ in rows]

    def _order_changes(self, order: PaperOrder, now: float) -> list[Message]:
        status, matched = self.orders[order.order_id]
        out = []
        if order.size_matched != matched:
            out.append(self._order_event(order, "UPDATE", now))
        if order.status == "CANCELED" and status != "CANCELED":
            out.append(self._order_event(order, "CANCELLATION", now))
        if order.status == "LIVE":
            self.orders[order.order_id] = (order.status, order.size_matched)
        else:
            self.orders.pop(order.order_id)  # final: nothing more to say about it
        return [m for m in out if self._wanted(order.market)]

    def _trade_events(self, trade: dict[str, Any], now: float) -> list[Message]:
        trade_id = trade["id"]
        status = self.lifecycle.status(trade_id)
        last = self.trade_status.get(trade_id)
        if last == status or not self._wanted(trade["market"]):
            return []
        path = self.lifecycle.path(trade_id)
        start = path.index(last) + 1 if last in path else 0
        self.trade_status[trade_id] = status
        if status in FINAL:
            self.done.add(trade_id)
        return [_trade_event(trade, s, now) for s in path[start : path.index(status) + 1]]

    def _order_event(self, order: PaperOrder, kind: str, now: float) -> Message:
        return {
            "event_type": "order",
            "type": kind,
            "id": order.order_id,
            "owner": order.owner,
            "order_owner": order.owner,
            "maker_address": order.maker,
            "market": order.market,
            "asset_id": order.token_id,
            "side": order.side,
            "outcome": order.outcome,
            "price": str(order.price),
            "original_size": str(order.original_size),
            "size_matched": str(order.size_matched),
            "order_type": order.order_type,
            "status": order.status,
            "associate_trades": list(order.trades),
            "created_at": str(order.created_at),
            "expiration": str(order.expiration),
            "timestamp": str(int(now * 1000)),
        }


def _trade_event(trade: dict[str, Any], status: str, now: float) -> Message:
    return {
        **trade,
        "event_type": "trade",
        "type": "TRADE",
        "status": status,
        "timestamp": str(int(now * 1000)),
    }
