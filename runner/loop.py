"""The runner's loop: a thin shell of timing, signals and degraded mode around `run_tick`.

SIGTERM/SIGINT: the current tick finishes, leases are released, exit 0.
SIGKILL anywhere: nothing is lost; the next process reconciles by client order id.

A failed tick is handled by what its error says to do (`state_store.errors`):
Redis unavailable -> degraded mode (no new orders; control.json, status.json and
the fill journal go on); an operational error -> halt (no new orders, said once
in log and audit, shown in status); a temporary venue error -> counted, the
venue marked unresponsive while it does not answer; anything else -> counted
and shown. The loop itself never stops for any of them.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType

from exchange.errors import VenueError
from runner import sdnotify
from runner.degraded import degraded_tick, recover
from runner.health import audit_halt, halt, venue_answered, venue_failed
from runner.markets import release_all
from runner.runtime import Runtime
from runner.tick import publish_status, run_tick, status_section
from state_store.connection import redis_available
from state_store.errors import REDIS_UNAVAILABLE, OperationalError
from state_store.status import write_status_file

log = logging.getLogger(__name__)

SLICE_S = 0.05


class Loop:
    def __init__(self, rt: Runtime, max_ticks: int | None = None) -> None:
        self.rt = rt
        self.max_ticks = max_ticks
        self.stop = threading.Event()
        self.signalled = 0

    def install_signals(self) -> None:
        def request_stop(signum: int, _frame: FrameType | None) -> None:
            # Only a flag: calling Event.set() here could deadlock against the main
            # thread's own Event.wait() (both take the Event's non-reentrant lock).
            self.signalled = signum

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

    def stopping(self) -> bool:
        if self.signalled and not self.stop.is_set():
            log.info("signal %d: finishing this tick, then stopping", self.signalled)
            self.stop.set()
        return self.stop.is_set()

    def run(self) -> int:
        next_at = time.monotonic()
        by_event = False
        try:
            while not self.stopping():
                self.rt.waker.tick_started(by_event)
                self.one_tick()
                sdnotify.alive()  # systemd: READY=1 once, then WATCHDOG=1 (no-op elsewhere)
                if self.max_ticks is not None and self.rt.tick >= self.max_ticks:
                    break
                next_at += self.rt.config.tick_s
                if next_at < time.monotonic():  # overran: start the next tick now, no catch-up
                    next_at = time.monotonic()
                by_event = self.sleep_until(next_at)
                if by_event:  # the timer counts from this tick's start (runner.wake)
                    next_at = time.monotonic()
        finally:
            self.teardown()
        return 0

    def sleep_until(self, deadline: float) -> bool:
        """Sleep until `deadline` or a change of one of our markets (`runner.wake`), in
        short slices so a stop request (signal flag or event) is seen quickly. True when
        a change ends the sleep."""
        while not self.stopping():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.rt.degraded:  # no orders without Redis: changes wait for the timer
                self.stop.wait(min(left, SLICE_S))
            elif self.rt.waker.wait(min(left, SLICE_S)):
                return not self.stopping()
        return False

    def one_tick(self) -> None:
        rt = self.rt
        self.count_missed(time.monotonic())
        try:
            if rt.degraded:
                if not redis_available(rt.client):
                    degraded_tick(rt)
                    return
                recover(rt)
            run_tick(rt)
            venue_answered(rt)
            audit_halt(rt)  # a halt that began with Redis down is audited now
        except REDIS_UNAVAILABLE as exc:
            log.warning("redis unavailable (%s): degraded mode, no new orders", exc)
            degraded_tick(rt, finishes_tick=True)
        except OperationalError as exc:
            halt(rt, exc)
            self._status_only()
        except VenueError as exc:  # temporary (unanswered, rate limited) or one refused request
            venue_failed(rt, exc)
            self._status_only()
        except Exception as exc:  # the loop outlives any one tick's failure; status shows it
            rt.counters.loop_errors += 1
            rt.counters.last_loop_error = f"tick {rt.tick}: {exc!r}"[:500]
            log.exception("tick %d failed; the loop goes on", rt.tick)
            self._status_only()

    def count_missed(self, now: float) -> None:
        """The tick starting now: count (status `tick_gaps`) and log the ticks it missed."""
        rt = self.rt
        gaps = rt.counters.tick_gaps
        missed = gaps.started(rt.tick + 1, now, rt.config.tick_s)
        if missed:
            log.warning(
                "tick %d starts %.3f s after tick %d: %d tick(s) missed (%d in all)",
                rt.tick + 1, gaps.last_gap_s, rt.tick, missed, gaps.missed,
            )  # fmt: skip

    def _status_only(self) -> None:
        try:
            publish_status(self.rt, [])
        except REDIS_UNAVAILABLE:
            self.rt.degraded = True
        except Exception:
            log.exception("could not even write status after a failed tick")

    def teardown(self) -> None:
        rt = self.rt
        try:
            release_all(rt.store, rt.leases)
            if rt.heartbeat_lease is not None:  # a standby takes the venue heartbeat over now
                rt.store.release_lease(rt.heartbeat_lease)
                rt.heartbeat_lease = None
            rt.client.delete(rt.store.keys.runner(rt.config.replica))
        except REDIS_UNAVAILABLE:
            log.warning("redis unreachable at shutdown: leases expire on their own")
        rt.leases = {}
        section = status_section(rt).model_copy(update={"stopped": True})
        write_status_file(rt.settings.status_file, rt.config.replica, section, [])
        rt.caller.close()
        rt.reloader.close()
        log.info("runner %s stopped after tick %d", rt.config.replica, rt.tick)
