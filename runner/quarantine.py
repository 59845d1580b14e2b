"""Quarantined code generations, kept in Redis so a restarted runner skips them too."""

from __future__ import annotations

import contextlib

import redis

from state_store.errors import REDIS_UNAVAILABLE
from state_store.keys import Keys


class RedisQuarantine:
    """Hash `nb:{B}:quarantine`: generation -> why it was rolled back."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    def contains(self, generation: str) -> bool:
        try:
            return bool(self.client.hexists(self.keys.quarantine, generation))
        except REDIS_UNAVAILABLE:
            return False  # Redis down: the reloader's own memory still applies

    def add(self, generation: str, reason: str) -> None:
        with contextlib.suppress(*REDIS_UNAVAILABLE):
            self.client.hset(self.keys.quarantine, generation, reason[:500])
