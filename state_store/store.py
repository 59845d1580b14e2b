"""The state store: every change to durable trading state goes through here.

Each method runs one Lua transition, atomic and safe to repeat: a command
that redis-py resends after a dropped connection, or a tick that a restarted
runner replays, finds the work done and changes nothing. `execute` sends many
transitions in one pipelined round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.exceptions import NoScriptError

from state_store import transitions as t
from state_store.connection import is_cluster_client
from state_store.keys import Keys
from state_store.models import Fill, Intent, Window, derive_client_order_id
from state_store.reads import StoreReads
from state_store.transitions import Call, Lease

__all__ = ["Call", "FencedOut", "Lease", "Result", "Store"]


@dataclass(frozen=True)
class Result:
    """What a transition did: `outcome` (e.g. created, exists, applied, noop) and a detail."""

    outcome: str
    detail: str = ""

    @property
    def changed(self) -> bool:
        return self.outcome in {"created", "applied", "granted", "settled", "renewed", "released"}


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

    def run(self, call: Call) -> Result:
        script = self.scripts[call.script]
        return _result(script(keys=list(call.keys), args=list(call.args), client=self.client))

    def execute(self, calls: Sequence[Call]) -> list[Result]:
        """Run many transitions in one round trip; each is atomic on its own."""
        if not calls:
            return []
        if is_cluster_client(self.client):
            return _execute_on_cluster(self, calls)
        pipe = self.client.pipeline(transaction=False)
        for call in calls:
            self.scripts[call.script](keys=list(call.keys), args=list(call.args), client=pipe)
        return [_result(raw) for raw in pipe.execute()]

    def execute_replicated(
        self, calls: Sequence[Call], replicas: int, timeout_ms: int
    ) -> tuple[list[Result], int]:
        """`execute`, then `WAIT replicas timeout_ms` on the same connection (one round trip):
        the results and how many replicas acknowledged every write made so far.

        WAIT counts the replicas that have the master's stream up to this connection's
        last write, so a replica that acknowledged has every write above, and everything
        any client wrote before them. Redis answers at once when they are in sync already.
        """
        if not calls:
            return [], replicas
        pipe = self.client.pipeline(transaction=False)
        for call in calls:
            self.scripts[call.script](keys=list(call.keys), args=list(call.args), client=pipe)
        pipe.execute_command("WAIT", replicas, timeout_ms)  # type: ignore[no-untyped-call]
        *raw, acked = pipe.execute()
        return [_result(r) for r in raw], int(acked)

    # -- windows ---------------------------------------------------------------
    def open_window(self, window: Window, rolls_from: str | None = None) -> Result:
        """Open a window (idempotent); close the one it rolls over from, if named."""
        return self.run(t.open_window(self.keys, window, rolls_from))

    def close_window(self, market: str) -> Result:
        return self.run(t.close_window(self.keys, market))

    def settle_window(self, market: str, winner: str, end_price: str = "") -> Result:
        return self.run(t.settle_window(self.keys, market, winner, end_price))

    # -- orders ----------------------------------------------------------------
    def client_order_id(self, strategy: str, intent: Intent, window: Window) -> str:
        return derive_client_order_id(
            self.bot, strategy, intent.market, window.start_ts, intent.key
        )

    def create_order(
        self, strategy: str, intent: Intent, window: Window, lease: Lease, venue_order_id: str = ""
    ) -> tuple[str, Result]:
        """Record a new order for an intent; the same intent twice is one order."""
        coid = self.client_order_id(strategy, intent, window)
        call = t.create_order(self.keys, coid, strategy, intent, window, lease, venue_order_id)
        result = self.run(call)
        if result.outcome == "fenced":
            raise FencedOut(f"lease on {intent.market} is {result.detail or 'gone'}, not {lease}")
        return coid, result

    def ack_order(
        self,
        coid: str,
        market: str,
        status: str,
        venue_order_id: str = "",
        error: str = "",
        lease: Lease | None = None,
    ) -> Result:
        """Move an order forward to submitted/live/rejected; never backward.

        With `lease`, only while it is the market's current lease (outcome 'fenced' if not).
        """
        call = t.ack_order(self.keys, coid, market, status, venue_order_id, error, lease)
        return self.run(call)

    def cancel_order(
        self, coid: str, market: str, reason: str = "cancelled", error: str = ""
    ) -> Result:
        return self.run(t.cancel_order(self.keys, coid, market, reason, error))

    def apply_fill(self, fill: Fill) -> Result:
        """Apply a fill to its order and position at once; a known fill id is a no-op."""
        return self.run(t.apply_fill(self.keys, fill))

    def reverse_fill(self, fill: Fill) -> Result:
        """Undo the fill of a FAILED venue trade; a reversed fill id is a no-op."""
        return self.run(t.reverse_fill(self.keys, fill))

    def coid_for_venue_order(self, venue_order_id: str) -> str | None:
        value = self.client.hget(self.keys.venue_orders, venue_order_id)
        return _text(value) if value is not None else None

    # -- leases ----------------------------------------------------------------
    def claim_lease(self, market: str, replica: str, ttl_ms: int) -> Lease | None:
        """Claim or renew a market lease; None when another replica holds it."""
        result = self.run(t.claim_lease(self.keys, market, replica, ttl_ms))
        return None if result.outcome == "held" else Lease(market, replica, int(result.detail))

    def renew_lease(self, lease: Lease, ttl_ms: int) -> bool:
        return self.run(t.renew_lease(self.keys, lease, ttl_ms)).changed

    def release_lease(self, lease: Lease) -> bool:
        return self.run(t.release_lease(self.keys, lease)).changed


def _execute_on_cluster(store: Store, calls: Sequence[Call]) -> list[Result]:
    """`Store.execute` on a Redis Cluster. redis-py's cluster pipeline refuses its EVALSHA
    method (it cannot know that the keys of one bot share a slot), but routes a raw
    EVALSHA by its keys' slot. A call whose script the node does not have (NOSCRIPT: it
    did not run) runs again alone, through `Script`, which loads it."""
    pipe = store.client.pipeline(transaction=False)
    for call in calls:
        sha = store.scripts[call.script].sha
        pipe.execute_command("EVALSHA", sha, len(call.keys), *call.keys, *call.args)  # type: ignore[no-untyped-call]
    raw = pipe.execute(raise_on_error=False)
    results = []
    for call, reply in zip(calls, raw, strict=True):
        if isinstance(reply, NoScriptError):
            results.append(store.run(call))
        elif isinstance(reply, Exception):
            raise reply
        else:
            results.append(_result(reply))
    return results
