"""Venue conditions tests switch on, and the order heartbeat.

Faults (POST /paper/faults), as the real CLOB shows them:
- engine restart: 425 on every order endpoint for `engine_restart_s`, then a
  post-only period of `post_only_s` (503 `post_only_mode` for orders that
  are not `postOnly`; cancels pass);
- cancel-only: 503 on new orders, cancels pass;
- insufficient balance: every new order is refused `not enough balance / allowance`.

Heartbeat (POST /v1/heartbeats): the first beat of an owner starts a
deadline; each accepted beat (carrying the id the last one returned) moves
it; when it passes, every open order of the owner is cancelled and the
registration ends. Deadlines run on the venue's wall clock (`real_time`).
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

import redis

from exchange.paper.bodies import FaultRequest
from exchange.paper.errors import ApiError
from state_store.keys import VenueKeys

RESTARTING = "the matching engine is restarting"
CANCEL_ONLY = (
    "Trading is currently cancel-only. New orders are not accepted, but cancels are allowed."
)
POST_ONLY = "post-only mode: only post-only orders and cancels are allowed"
NOT_ENOUGH = "not enough balance / allowance"
INVALID_HEARTBEAT = "Invalid Heartbeat ID"
HEARTBEAT_TIMEOUT_S = 10.0


class Faults:
    def __init__(self, client: redis.Redis, keys: VenueKeys) -> None:
        self.redis = client
        self.key = keys.faults

    def set(self, request: FaultRequest, now: float) -> dict[str, Any]:
        restart_until = now + request.engine_restart_s
        state: dict[Any, Any] = {
            "restart_until": repr(restart_until),
            "post_only_until": repr(restart_until + request.post_only_s),
            "cancel_only": "1" if request.cancel_only else "0",
            "insufficient_balance": "1" if request.insufficient_balance else "0",
        }
        self.redis.hset(self.key, mapping=state)
        return self.state(now)

    def clear(self) -> None:
        self.redis.delete(self.key)

    def _raw(self) -> dict[str, str]:
        return cast(dict[str, str], self.redis.hgetall(self.key))

    def state(self, now: float) -> dict[str, Any]:
        raw = self._raw()
        restart_until = float(raw.get("restart_until", "0"))
        post_only_until = float(raw.get("post_only_until", "0"))
        return {
            "engine_restarting": now < restart_until,
            "post_only": restart_until <= now < post_only_until,
            "cancel_only": raw.get("cancel_only") == "1",
            "insufficient_balance": raw.get("insufficient_balance") == "1",
        }

    def check_cancel(self, now: float) -> None:
        if self.state(now)["engine_restarting"]:
            raise ApiError(425, RESTARTING)

    def check_post(self, now: float, post_only: bool) -> None:
        state = self.state(now)
        if state["engine_restarting"]:
            raise ApiError(425, RESTARTING)
        if state["cancel_only"]:
            raise ApiError(503, CANCEL_ONLY)
        if state["post_only"] and not post_only:
            raise ApiError(503, POST_ONLY, body={"error": POST_ONLY, "code": "post_only_mode"})

    def balance_refused(self, now: float) -> bool:
        return bool(self.state(now)["insufficient_balance"])


class Heartbeats:
    def __init__(self, client: redis.Redis, keys: VenueKeys, timeout_s: float) -> None:
        self.redis = client
        self.key = keys.heartbeats
        self.timeout_s = timeout_s

    def beat(self, owner: str, heartbeat_id: str, real_now: float) -> dict[str, str]:
        raw = cast(str | None, self.redis.hget(self.key, owner))
        current = json.loads(raw) if raw else None
        live = current is not None and real_now < current["deadline"]
        if live and current is not None and heartbeat_id != current["id"]:
            raise ApiError(
                400,
                INVALID_HEARTBEAT,
                body={"error_msg": INVALID_HEARTBEAT, "heartbeat_id": current["id"]},
            )
        new_id = str(uuid.uuid4())
        record = {"id": new_id, "deadline": real_now + self.timeout_s}
        self.redis.hset(self.key, owner, json.dumps(record))
        return {"heartbeat_id": new_id}

    def lapsed(self, real_now: float) -> list[str]:
        """Owners whose deadline passed; their registrations end here."""
        found = cast(dict[str, str], self.redis.hgetall(self.key))
        gone = [owner for owner, raw in found.items() if real_now >= json.loads(raw)["deadline"]]
        if gone:
            self.redis.hdel(self.key, *gone)
        return gone
