"""The root of neverblink's exceptions and the two kinds that tell a caller what to do.

- `TemporaryError`: the same call may succeed later (nothing was decided, or the
  call is idempotent). Retry with backoff where the call allows it, count it,
  and go on: the next tick tries again.
- `OperationalError`: retrying will not help until an operator acts (bad
  credentials, a restricted account, an unknown market series). The runner stops
  placing orders, keeps ticking (leases, status, fills), says why in status, the
  dashboard and the log, and appends one entry to the audit stream.

Errors of one boundary (e.g. `exchange.errors.VenueError`) derive from
`NeverblinkError` and mix in a kind where they have one; an error with no kind
(a refused order, a malformed request) concerns that one request only.

"Redis unavailable" has one definition, `REDIS_UNAVAILABLE` (catch it) and
`redis_unavailable(exc)` (ask it): Redis that cannot be reached, times out, is
still loading its data, or cannot take writes (a read-only replica after a
failover, maxmemory). Every process treats these the same way: fall back to the
file plane or degraded mode, never fail. Other Redis errors (a wrong type, a
script error) are bugs and propagate.
"""

from __future__ import annotations

import redis
from redis import exceptions as rx


class NeverblinkError(Exception):
    """Base of every error neverblink raises on purpose."""


class TemporaryError(NeverblinkError):
    """May succeed if tried again later: retry with backoff (idempotent calls only), count."""


class OperationalError(NeverblinkError):
    """Needs an operator: stop placing orders, say why (status, dashboard, log, audit)."""


#: Every Redis failure that means "Redis is not usable right now" (and nothing else).
#: ConnectionError covers refused/reset sockets, BusyLoadingError (still loading the AOF),
#: MasterNotFoundError (no Sentinel master) and AuthenticationError. On a Cluster:
#: ClusterDownError (CLUSTERDOWN, a master of the slot failed) and SlotNotCoveredError.
REDIS_UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    rx.ReadOnlyError,
    rx.OutOfMemoryError,
    rx.ClusterDownError,
    rx.SlotNotCoveredError,
)


def redis_unavailable(exc: BaseException) -> bool:
    """True when `exc` says Redis is unavailable (see `REDIS_UNAVAILABLE`)."""
    return isinstance(exc, REDIS_UNAVAILABLE)
