"""The state store: every change to durable trading state goes through here.

Each method runs one Lua transition, atomic and safe to repeat: a command
that redis-py resends after a dropped connection, or a tick that a restarted
runner replays, finds the work done and changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import redis

from state_store.codec import plain, to_micro, window_fields
from state_store.keys import Keys
from state_store.models import Fill, Intent, Window, derive_client_order_id
from state_store.reads import StoreReads


@dataclass(frozen=True)
class Result:
    """What a transition did: `outcome` (e.g. created, exists, applied, noop) and a detail."""

    outcome: str
    detail: str = ""

    @property
    def changed(self) -> bool:
        return self.outcome in {"created", "applied", "granted", "settled", "renewed", "released"}


@dataclass(frozen=True)
class Lease:
    market: str
    replica: str
    token: int


class FencedOut(RuntimeError):
    """The caller's lease on a market is gone or belongs to someone else."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _result(raw: Any) -> Result:
    return Result(_text(raw[0]), _text(raw[1]) if len(raw) > 1 else "")


class Store(StoreReads):
    """Transitions of one bot's state. The client must use decode_responses=True."""

    def __init__(self, client: redis.Redis, bot: str) -> None:
        super().__init__(client, Keys(bot))
        self.bot = bot

    def _run(self, name: str, keys: list[str], args: list[Any]) -> Result:
        return _result(self.scripts[name](keys=keys, args=args, client=self.client))

    # -- windows ---------------------------------------------------------------
    def open_window(self, window: Window, rolls_from: str | None = None) -> Result:
        """Open a window (idempotent); close the one it rolls over from, if named."""
        k = self.keys
        previous = k.window(rolls_from) if rolls_from else k.window(window.market)
        fields = window_fields(window)
        args = [fields[f] for f in _WINDOW_ARG_ORDER] + [f"{time.time():.3f}"]
        return self._run("open_window", [k.window(window.market), k.markets, previous], args)

    def close_window(self, market: str) -> Result:
        return self._run("close_window", [self.keys.window(market)], [f"{time.time():.3f}"])

    def settle_window(self, market: str, winner: str, end_price: str = "") -> Result:
        if winner not in ("Up", "Down"):
            raise ValueError(f"winner must be Up or Down, not {winner!r}")
        k = self.keys
        args = [market, winner, end_price, f"{time.time():.3f}"]
        return self._run("settle_window", [k.window(market), k.position(market)], args)

    # -- orders ----------------------------------------------------------------
    def client_order_id(self, strategy: str, intent: Intent, window: Window) -> str:
        return derive_client_order_id(
            self.bot, strategy, intent.market, window.start_ts, intent.key
        )

    def create_order(
        self,
        strategy: str,
        intent: Intent,
        window: Window,
        lease: Lease,
        venue_order_id: str = "",
    ) -> tuple[str, Result]:
        """Record a new order for an intent; the same intent twice is one order."""
        coid = self.client_order_id(strategy, intent, window)
        k, m = self.keys, intent.market
        keys = [
            k.order(coid),
            k.pending,
            k.pending_market(m),
            k.market_orders(m),
            k.lease(m),
            k.window(m),
        ]
        args = [
            coid, m, strategy, intent.key, intent.outcome, window.token_for(intent.outcome),
            intent.side, plain(intent.price), plain(intent.size), intent.order_type,
            venue_order_id, lease.replica, lease.token, f"{time.time():.3f}",
        ]  # fmt: skip
        to_micro(intent.price), to_micro(intent.size)  # reject sub-micro amounts early
        result = self._run("create_order", keys, args)
        if result.outcome == "fenced":
            raise FencedOut(f"lease on {m} is {result.detail or 'gone'}, not {lease.token}")
        return coid, result

    def ack_order(
        self, coid: str, market: str, status: str, venue_order_id: str = "", error: str = ""
    ) -> Result:
        """Move an order forward to submitted/live/rejected; never backward."""
        k = self.keys
        keys = [k.order(coid), k.pending, k.pending_market(market)]
        args = [coid, status, venue_order_id, error, f"{time.time():.3f}"]
        return self._run("ack_order", keys, args)

    def cancel_order(
        self, coid: str, market: str, reason: str = "cancelled", error: str = ""
    ) -> Result:
        if reason not in ("cancelled", "expired"):
            raise ValueError(f"reason must be cancelled or expired, not {reason!r}")
        k = self.keys
        keys = [k.order(coid), k.pending, k.pending_market(market)]
        return self._run("cancel_order", keys, [coid, reason, error, f"{time.time():.3f}"])

    def apply_fill(self, fill: Fill) -> Result:
        """Apply a fill to its order and position at once; a known fill id is a no-op."""
        k, m = self.keys, fill.market
        keys = [
            k.fill(fill.fill_id),
            k.order(fill.client_order_id),
            k.position(m),
            k.pending,
            k.pending_market(m),
        ]
        args = [
            fill.fill_id, fill.client_order_id, m, fill.outcome, fill.side, plain(fill.price),
            to_micro(fill.size), to_micro(fill.price * fill.size), f"{fill.ts:.3f}",
            fill.venue_order_id,
        ]  # fmt: skip
        return self._run("apply_fill", keys, args)

    # -- leases ----------------------------------------------------------------
    def claim_lease(self, market: str, replica: str, ttl_ms: int) -> Lease | None:
        """Claim or renew a market lease; None when another replica holds it."""
        result = self._run(
            "claim_lease", [self.keys.lease(market), self.keys.fence], [replica, ttl_ms]
        )
        if result.outcome == "held":
            return None
        return Lease(market, replica, int(result.detail))

    def renew_lease(self, lease: Lease, ttl_ms: int) -> bool:
        key = self.keys.lease(lease.market)
        return self._run("renew_lease", [key], [lease.replica, lease.token, ttl_ms]).changed

    def release_lease(self, lease: Lease) -> bool:
        key = self.keys.lease(lease.market)
        return self._run("release_lease", [key], [lease.replica, lease.token]).changed


_WINDOW_ARG_ORDER = (
    "market",
    "asset",
    "interval",
    "start_ts",
    "end_ts",
    "condition_id",
    "up_token",
    "down_token",
    "start_price",
)
