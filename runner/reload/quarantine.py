"""Generations that failed probation and must not be loaded again.

A quarantined generation is never re-validated or loaded; since the
generation is a hash of the bytes, any change to the tree makes a new
generation that is free to try again. Re-saving the same bytes does not.

`RedisQuarantine` is the fleet's list (hash `nb:{B}:quarantine`, read by the
publisher too); a reloader keeps its own `MemoryQuarantine` in front of it
(`LayeredQuarantine`) so what it rolled back stays out during a Redis outage.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from typing import Protocol

import redis

from state_store.keys import Keys

log = logging.getLogger(__name__)


class Quarantine(Protocol):
    """Where quarantined generations live (in memory here; Redis for a fleet)."""

    def contains(self, generation: str) -> bool: ...

    def add(self, generation: str, reason: str) -> None: ...


class MemoryQuarantine:
    """In-process quarantine, bounded: the oldest entries go first past `limit`."""

    def __init__(self, limit: int = 1000) -> None:
        self._limit = limit
        self._reasons: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def contains(self, generation: str) -> bool:
        with self._lock:
            return generation in self._reasons

    def add(self, generation: str, reason: str) -> None:
        with self._lock:
            self._reasons[generation] = reason
            self._reasons.move_to_end(generation)
            while len(self._reasons) > self._limit:
                self._reasons.popitem(last=False)

    def reason(self, generation: str) -> str:
        with self._lock:
            return self._reasons.get(generation, "")


class LayeredQuarantine:
    """This process's own memory in front of a shared quarantine (Redis for a fleet).

    The local layer always answers for what this process rolled back, even when
    the shared one is unreachable; errors of the shared layer are logged, not raised.
    """

    def __init__(self, shared: Quarantine, local: MemoryQuarantine | None = None) -> None:
        self.shared = shared
        self.local = MemoryQuarantine() if local is None else local

    def contains(self, generation: str) -> bool:
        if self.local.contains(generation):
            return True
        try:
            return self.shared.contains(generation)
        except Exception:
            log.exception(
                "quarantine lookup of %s failed; treating it as not quarantined", generation
            )
            return False

    def add(self, generation: str, reason: str) -> None:
        self.local.add(generation, reason)
        try:
            self.shared.add(generation, reason)
        except Exception:
            log.exception("could not record quarantine of %s in the shared store", generation)


class RedisQuarantine:
    """Hash `nb:{B}:quarantine`: generation -> why it was rolled back."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    def contains(self, generation: str) -> bool:
        try:
            return bool(self.client.hexists(self.keys.quarantine, generation))
        except (redis.ConnectionError, redis.TimeoutError):
            return False  # Redis down: the reloader's own memory still applies

    def add(self, generation: str, reason: str) -> None:
        with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
            self.client.hset(self.keys.quarantine, generation, reason[:500])
