"""systemd's notify protocol in a few lines: READY=1 once, then WATCHDOG=1 per loop.

systemd passes `NOTIFY_SOCKET` (a unix datagram socket path, or `@name` for
the abstract namespace) to services with `Type=notify` or `WatchdogSec=`.
One datagram per message; no reply. Without the variable every call is a
no-op, so the same code runs under systemd, a Procfile or a test.

    notifier = Notifier()        # reads NOTIFY_SOCKET once
    notifier.alive()             # call once per loop turn: READY=1 the first time, then WATCHDOG=1
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to NOTIFY_SOCKET; silent when it is not set."""

    def __init__(self, address: str | None = None) -> None:
        raw = os.environ.get("NOTIFY_SOCKET", "") if address is None else address
        self.address = "\0" + raw[1:] if raw.startswith("@") else raw
        self._socket: socket.socket | None = None
        self._ready = False

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, message: str) -> bool:
        """Send one message ("READY=1", "WATCHDOG=1", "STATUS=..."); False if not sent."""
        if not self.address:
            return False
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)  # a full queue drops a ping, never stalls a tick
            self._socket.sendto(message.encode(), self.address)
        except OSError as exc:  # systemd gone, restarting or not reading: never fail the loop
            log.debug("sd_notify %r failed: %s", message, exc)
            return False
        return True

    def alive(self) -> bool:
        """READY=1 on the first call, WATCHDOG=1 after: one line per loop turn."""
        if self._ready:
            return self.notify("WATCHDOG=1")
        self._ready = self.notify("READY=1\nWATCHDOG=1")
        return self._ready

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


_default: Notifier | None = None


def alive() -> bool:
    """Module-level shortcut for the runner loop: `sdnotify.alive()` once per tick."""
    global _default
    if _default is None:
        _default = Notifier()
    return _default.alive()
