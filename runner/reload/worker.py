"""The background thread that runs builder attempts, so the tick loop never waits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from runner.reload.builder import Builder, Held, Outcome

log = logging.getLogger(__name__)

_AFTER_CRASH = 1.0  # seconds before retrying after an unexpected error


class Worker:
    """Runs `builder.attempt` when woken, while a tree is still settling, and every `rescan`."""

    def __init__(
        self,
        builder: Builder,
        held: Callable[[], Held],
        deliver: Callable[[Outcome], None],
        *,
        stop: threading.Event,
        rescan: float,
        retry: float,
    ) -> None:
        self._builder = builder
        self._held = held
        self._deliver = deliver
        self._stop = stop
        self._rescan = rescan
        self._retry = retry
        self._wake = threading.Event()
        self._force = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.busy = False
        self.attempts = 0  # finished attempts, for tests and status

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None and not self._stop.is_set():
                thread = threading.Thread(target=self._run, name="nb-reload", daemon=True)
                thread.start()
                self._thread = thread

    def wake(self, force: bool = False) -> None:
        if force:
            self._force = True
        self.start()
        self._wake.set()

    def close(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("reload thread still busy after %.1fs; leaving it (daemon)", timeout)

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.is_set():
            self._wake.wait(wait)
            if self._stop.is_set():
                return
            self._wake.clear()
            forced, self._force = self._force, False
            wait = self._once(forced)

    def _once(self, forced: bool) -> float:
        """One attempt; how long to sleep before the next one when nothing wakes us."""
        self.busy = True
        try:
            outcome = self._builder.attempt(self._held(), forced)
            self._deliver(outcome)
        except Exception:
            log.exception("reload attempt failed unexpectedly; retrying")
            return _AFTER_CRASH
        finally:
            self.attempts += 1
            self.busy = False
        if outcome.status == "unsettled":
            return 0.0
        if outcome.status == "deferred":
            return self._retry
        return self._rescan
