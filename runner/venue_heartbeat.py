"""The venue's order heartbeat (`POST /v1/heartbeats`), sent by exactly one replica.

Once started, the venue cancels every order of the API key when a beat is missed
for ~10 s. Replicas share the key, so one of them beats: the holder of the
heartbeat lease (a market lease on `HEARTBEAT_LEASE`, fenced and logged like the
others). The chained id it got last is kept in Redis (`Keys.venue_heartbeat`),
so whoever holds the lease next continues the same chain.

Modes (`RunnerConfig.venue_heartbeat`, `neverblink run --venue-heartbeat`):

- `off` (default): no beats; the venue never cancels for silence.
- `failover`: when the owner dies, another replica claims the lease once it
  expires (the lease TTL, well inside the venue's ~10 s) and beats on with the
  stored id: losing the owner does not cancel the book.
- `owner`: only the first owner (or a restart with its replica id) ever beats
  the chain it started; when it is gone nobody takes over and the venue cancels
  the book: the operator chose "no owner, no orders".
"""

from __future__ import annotations

import logging
import time

from exchange.errors import VenueError
from runner.runtime import Runtime

log = logging.getLogger(__name__)

HEARTBEAT_LEASE = "venue-heartbeat"
MODES = ("off", "failover", "owner")


def beat(rt: Runtime) -> bool:
    """Hold the heartbeat lease and, holding it, send this tick's beat. True when sent."""
    mode = rt.config.venue_heartbeat
    send = getattr(rt.venue, "heartbeat", None)
    if mode == "off" or send is None:
        return False
    if not _hold(rt, mode):
        return False
    key = rt.store.keys.venue_heartbeat
    last = rt.client.hget(key, "id") or ""
    try:
        next_id = send(str(last))
    except VenueError as exc:  # a stale id or a venue error: the next tick tries again
        log.warning("venue heartbeat failed (%s): next tick", exc)
        return False
    rt.client.hset(
        key,
        mapping={"id": next_id, "owner": rt.config.replica, "beat_at": f"{time.time():.3f}"},
    )
    return True


def _hold(rt: Runtime, mode: str) -> bool:
    lease = rt.heartbeat_lease
    ttl = rt.config.lease_ttl_ms
    if lease is not None and rt.store.renew_lease(lease, ttl):
        return True
    rt.heartbeat_lease = None
    owner = rt.client.hget(rt.store.keys.venue_heartbeat, "owner")
    if mode == "owner" and owner and owner != rt.config.replica:
        return False  # the chain is another replica's: when it is gone, the book goes
    rt.heartbeat_lease = rt.store.claim_lease(HEARTBEAT_LEASE, rt.config.replica, ttl)
    if rt.heartbeat_lease is not None:
        log.warning("replica %s owns the venue heartbeat now", rt.config.replica)
    return rt.heartbeat_lease is not None
