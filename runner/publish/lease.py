"""The one-publisher-per-bot lease `nb:{B}:watcher`, kept alive by its own thread.

The key is a string `<host>:<pid>:<nonce>` with a PX expiry, renewed every
ttl/3 by a thread, so a long validation never lets it lapse. A second watcher
finds it taken and waits as a standby; it takes over within one ttl after the
first one stops or dies. While the key exists, runners adopt only what is
published in `nb:{B}:code` (runner.published). Every publish checks the
token in the same script (publish.py), so a watcher that lost its lease
cannot overwrite its successor.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable

import redis

from state_store.keys import Keys
from state_store.scripts import script_source

log = logging.getLogger(__name__)


def identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PublisherLease:
    """Take, renew and release the watcher lease."""

    def __init__(self, client: redis.Redis, keys: Keys, ttl_s: float) -> None:
        self.client = client
        self.keys = keys
        self.ttl_s = ttl_s
        self.token = f"{identity()}:{secrets.token_hex(4)}"
        self._hold = client.register_script(script_source("hold_watcher_lease"))
        self._release = client.register_script(script_source("release_watcher_lease"))

    def hold(self) -> bool:
        """Take or renew the lease; False while another watcher holds it."""
        ttl_ms = max(100, int(self.ttl_s * 1000))
        return bool(self._hold(keys=[self.keys.watcher], args=[self.token, ttl_ms]))

    def owner(self) -> str:
        return str(self.client.get(self.keys.watcher) or "")

    def release(self) -> None:
        self._release(keys=[self.keys.watcher], args=[self.token])


class LeaseKeeper:
    """Renews the lease every ttl/3 in a thread; `active` says whether we hold it."""

    def __init__(self, lease: PublisherLease, on_change: Callable[[bool], None]) -> None:
        self.lease = lease
        self.on_change = on_change
        self.active = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nb-watch-lease", daemon=True)
            self._thread.start()

    def beat(self) -> None:
        """One renewal (the thread calls it; tests may too)."""
        try:
            active = self.lease.hold()
        except redis.RedisError as exc:
            log.warning("cannot renew the watcher lease (%s); not publishing", exc)
            active = False
        if active != self.active:
            self.active = active
            if not active:
                log.info("standby: the watcher lease is held by %r", self._owner())
            self.on_change(active)

    def _owner(self) -> str:
        try:
            return self.lease.owner()
        except redis.RedisError:
            return "(redis down)"

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(self.lease.ttl_s / 3)

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.active:
            with contextlib.suppress(redis.RedisError):  # else it expires on its own
                self.lease.release()
            self.active = False
