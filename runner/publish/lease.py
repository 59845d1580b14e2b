"""The one-publisher-per-bot lease `nb:{B}:watcher`, kept alive by its own thread.

The key is a string `<host>:<pid>:<nonce>` with a PX expiry, renewed every
ttl/3 by a thread, so a long validation never lets it lapse. A second
publisher (`neverblink watch`, or a runner's in-process one) finds it taken and
waits as a standby; it takes over within one ttl after the first one stops or
dies, at once when the holder was a process of its own host that is gone.
Every publish checks the token in the same script (writer.py), so a publisher
that lost its lease cannot overwrite its successor. The scripts are
state_store/lua/hold_watcher_lease.lua and release_watcher_lease.lua.
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


def _dead_here(token: str) -> bool:
    """True when `token` ('<host>:<pid>:<nonce>') names a process of this host that is gone."""
    parts = token.split(":")
    if len(parts) < 3 or ":".join(parts[:-2]) != socket.gethostname():
        return False
    try:
        pid = int(parts[-2])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


class PublisherLease:
    """Take, renew and release the publisher lease (`nb:{B}:watcher`)."""

    def __init__(self, client: redis.Redis, keys: Keys, ttl_s: float) -> None:
        self.client = client
        self.keys = keys
        self.ttl_s = ttl_s
        self.token = f"{identity()}:{secrets.token_hex(4)}"
        self._hold = client.register_script(script_source("hold_watcher_lease"))
        self._release = client.register_script(script_source("release_watcher_lease"))

    def hold(self) -> bool:
        """Take or renew the lease; False while another publisher holds it.

        A lease left by a process of this host that no longer exists (a runner
        killed with SIGKILL) is taken over at once instead of after its ttl."""
        ttl_ms = max(100, int(self.ttl_s * 1000))
        if self._hold(keys=[self.keys.watcher], args=[self.token, ttl_ms, ""]):
            return True
        stale = self.owner()
        if not stale or not _dead_here(stale):
            return False
        log.info("taking over the watcher lease of %s: that process is gone", stale)
        return bool(self._hold(keys=[self.keys.watcher], args=[self.token, ttl_ms, stale]))

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
