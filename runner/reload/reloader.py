"""The runner's handle on strategy code: current + last-good, swapped at tick boundaries.

Per tick the runner calls `poll()` (a stat() per file; wakes the background
thread on a change), `drain_events()` and `at_tick_boundary(tick)` (swap in a
ready candidate, never waiting for validation), runs the strategies of
`current`, then `report_tick(tick, failures)`. A version that fails within its
first `probation_ticks` ticks is rolled back to last-good and quarantined;
one that survives becomes last-good. The first version of a process has no
fallback, so it is last-good at once (no probation). Versions neither
current, last-good nor pending are unloaded from sys.modules.
"""

from __future__ import annotations

import collections
import logging
import sys
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.reload.builder import Builder, Held, Outcome
from runner.reload.events import tree_event, version_event
from runner.reload.isolation import Isolation
from runner.reload.loader import unload
from runner.reload.model import CodeVersion, Published, ReloadEvent
from runner.reload.quarantine import LayeredQuarantine, MemoryQuarantine, Quarantine
from runner.reload.tree import StatSignature, read_tree, stat_signature
from runner.reload.worker import Worker

log = logging.getLogger(__name__)

MAX_PENDING_EVENTS = 1000


@dataclass
class _Probation:
    live_tick: int | None  # None: went live before the first tick (load_initial)
    ok_ticks: int = 0


class Reloader:
    """Loads, validates and swaps the strategies folder as one versioned unit.

    `only`: names of the strategies this runner runs. The whole folder is still
    one generation: every module is validated and loaded (a broken strategy
    that this runner does not run still rejects the tree, so every replica
    agrees on what is live), but `current.strategies` holds only these, and a
    selected name missing from the tree rejects it.

    `detect_writers`: None = scan /proc for files still open for writing when
    it exists; False forces the portable path (quiet window + double read only).

    `follow(published)`: while a watcher validates and publishes generations,
    the reloader stops validating the folder itself and only adopts the
    published one when its own folder hashes the same (see follow.py);
    `follow(None)` goes back to validating on its own. Adopting a published
    generation costs milliseconds (read, hash, exec; no child), so the tick
    boundary right after `follow` waits up to `adopt_wait_seconds` for it:
    the new generation goes live one tick sooner (the wait is bounded, and
    happens once per published generation).
    """

    def __init__(
        self,
        directory: Path,
        *,
        probation_ticks: int = 20,
        validate_timeout: float = 5.0,
        quiet_seconds: float = 0.05,
        quarantine: Quarantine | None = None,
        only: Collection[str] | None = None,
        detect_writers: bool | None = None,
        rescan_seconds: float = 30.0,
        mismatch_grace_seconds: float = 5.0,
        adopt_wait_seconds: float = 0.05,
    ) -> None:
        self.directory = Path(directory).absolute()
        self.probation_ticks = probation_ticks
        self.quarantine: Quarantine = MemoryQuarantine() if quarantine is None else quarantine
        known = LayeredQuarantine(self.quarantine)  # our own memory survives a Redis outage
        self._isolation = Isolation()
        self._stop = threading.Event()
        self._builder = Builder(
            self.directory,
            quiet=quiet_seconds,
            timeout=validate_timeout,
            quarantine=known,
            isolation=self._isolation,
            only=only,
            detect_writers=detect_writers,
            stop=self._stop,
            mismatch_grace=mismatch_grace_seconds,
        )
        self._worker = Worker(
            self._builder,
            self._held,
            self._deliver,
            stop=self._stop,
            rescan=rescan_seconds,
            retry=max(quiet_seconds, 0.1),
        )
        self._close_timeout = validate_timeout + 5.0
        self._lock = threading.Lock()
        self._current: CodeVersion | None = None
        self._last_good: CodeVersion | None = None
        self._candidate: CodeVersion | None = None
        self._probation: _Probation | None = None
        self._events: collections.deque[ReloadEvent] = collections.deque(maxlen=MAX_PENDING_EVENTS)
        self._signature: StatSignature | None = None
        self.adopt_wait = adopt_wait_seconds
        self._awaiting: Published | None = None  # a target whose first attempt is pending
        self._adopted = threading.Event()

    # -- what the runner reads ---------------------------------------------
    @property
    def current(self) -> CodeVersion | None:
        return self._current

    @property
    def last_good(self) -> CodeVersion | None:
        return self._last_good

    @property
    def pending(self) -> CodeVersion | None:
        """A validated, loaded version waiting for the next tick boundary."""
        return self._candidate

    @property
    def on_probation(self) -> bool:
        return self._probation is not None

    @property
    def busy(self) -> bool:
        """True while the background thread works on the folder."""
        return self._worker.busy

    @property
    def following(self) -> Published | None:
        """The published generation this reloader follows (None: it validates on its own)."""
        return self._builder.target

    @property
    def attempts(self) -> int:
        """Background passes over the folder finished so far."""
        return self._worker.attempts

    # -- process start -----------------------------------------------------
    def load_initial(self, timeout: float = 30.0) -> list[ReloadEvent]:
        """Blocking first load: the returned events say whether a version went live.

        Following a watcher, a folder that holds the published files is adopted
        without validation; any other folder is validated here, as without a
        watcher, so the runner starts with a version (it reports the mismatch later).
        """
        deadline = time.monotonic() + timeout
        self._signature = stat_signature(self.directory)
        events: list[ReloadEvent] = []
        target = self._builder.target
        if target is not None:
            outcome = self._builder.attempt(self._held(), forced=True)
            if outcome.event is not None:
                events.append(outcome.event)
            if outcome.status == "ready" and outcome.version is not None:
                events += self._go_live(outcome.version, None)
        if self._current is None:
            self._builder.target = None
            try:
                events += self._validate_initial(deadline, timeout)
            finally:
                self._builder.target = target
        self._worker.start()
        return events

    def _validate_initial(self, deadline: float, timeout: float) -> list[ReloadEvent]:
        events: list[ReloadEvent] = []
        forced = True  # the first pass validates whatever is there
        while True:
            outcome = self._builder.attempt(self._held(), forced=forced, until=deadline)
            forced = False
            if outcome.event is not None:
                events.append(outcome.event)
            if outcome.status == "ready" and outcome.version is not None:
                events += self._go_live(outcome.version, None)
                break
            if outcome.status not in ("deferred", "unsettled"):
                break  # rejected (reported), unchanged, stopped
            if time.monotonic() >= deadline:
                events.append(self._timed_out(timeout))
                break
            self._stop.wait(self._worker_retry())
        return events

    def _timed_out(self, timeout: float) -> ReloadEvent:
        msg = f"no complete, stable tree within {timeout:g} s (still being written?)"
        return tree_event("rejected", read_tree(self.directory), msg)

    def _worker_retry(self) -> float:
        return max(self._builder.quiet, 0.1)

    # -- every tick ----------------------------------------------------------
    def poll(self) -> None:
        """Cheap change check (one stat per file); wakes the background thread on a change."""
        signature = stat_signature(self.directory)
        if signature != self._signature:
            self._signature = signature
            self._worker.wake()
        else:
            self._worker.start()

    def follow(self, target: Published | None) -> None:
        """Adopt only `target` from now on (None: validate the folder ourselves again)."""
        if target == self._builder.target:
            return
        self._builder.target = target
        if self._worker.started:  # before load_initial, that first load follows it
            self._awaiting = target
            self._adopted.clear()
            self._worker.wake()

    def request_reload(self) -> None:
        """Re-read and re-validate now, even an unchanged or previously rejected tree."""
        self._worker.wake(force=True)

    def drain_events(self) -> list[ReloadEvent]:
        """Rejected / deferred entries from the background thread since the last call."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    def at_tick_boundary(self, tick: int) -> list[ReloadEvent]:
        """Swap in a ready candidate, if any. Never waits for validation (only, briefly,
        for the adoption of a generation `follow` just asked for)."""
        awaiting = self._awaiting
        if awaiting is not None:
            self._adopted.wait(self.adopt_wait)
            if self._awaiting is awaiting:
                self._awaiting = None
        with self._lock:
            candidate, self._candidate = self._candidate, None
        if candidate is None:
            return []
        if self._current is not None and candidate.generation == self._current.generation:
            self._retire(candidate)
            return []
        return self._go_live(candidate, tick)

    def report_tick(
        self, tick: int, failures: Mapping[str, str], ran: Collection[str] | None = None
    ) -> list[ReloadEvent]:
        """Judge a version on probation from this tick's strategy failures (name -> error).

        `ran`: the strategies whose decide was actually called this tick. A tick
        in which none of them ran (paused, no markets) does not count towards
        probation. None means "all of them ran".
        """
        probation, current = self._probation, self._current
        if probation is None or current is None:
            return []
        if probation.live_tick is not None and tick < probation.live_tick:
            return []  # a tick that ran the previous version
        ours = {name: err for name, err in failures.items() if name in current.strategies}
        if ours:
            return [self._roll_back(current, tick, ours)]
        if ran is not None and not set(ran) & set(current.strategies):
            return []
        probation.ok_ticks += 1
        if probation.ok_ticks >= self.probation_ticks:
            return [self._promote(current, tick)]
        return []

    def close(self) -> None:
        """Stop the background thread and the forkserver; unload every held version."""
        self._worker.close(self._close_timeout)
        self._isolation.close()
        with self._lock:
            held = [self._current, self._last_good, self._candidate]
            self._candidate = None
        for version in {v.package for v in held if v is not None}:
            unload(version)

    # -- transitions -----------------------------------------------------------
    def _go_live(self, version: CodeVersion, tick: int | None) -> list[ReloadEvent]:
        previous = self._current
        proven = self._last_good is not None and version.package == self._last_good.package
        self._current = version
        self._probation = None if proven else _Probation(tick)
        self._retire(previous)
        log.info("generation %s live at tick %s", version.generation, tick)
        events = [version_event("live", version, tick)]
        if not proven and (self.probation_ticks <= 0 or self._last_good is None):
            # nothing to fall back to: rolling back would stop every strategy (pause does
            # that on purpose); the first version is trusted, its errors contained per tick
            events.append(self._promote(version, tick))
        return events

    def _promote(self, version: CodeVersion, tick: int | None) -> ReloadEvent:
        previous, self._last_good = self._last_good, version
        self._probation = None
        self._retire(previous)
        log.info("generation %s survived probation: now last-good", version.generation)
        return version_event("promoted", version, tick)

    def _roll_back(
        self, failed: CodeVersion, tick: int, failures: Mapping[str, str]
    ) -> ReloadEvent:
        probation = self._probation
        done = probation.ok_ticks if probation is not None else 0
        detail = "; ".join(f"{name}: {err}" for name, err in sorted(failures.items()))
        reason = f"failed probation at tick {tick} ({done}/{self.probation_ticks} ok): {detail}"
        self._builder.quarantine.add(failed.generation, reason)  # never raises
        self._builder.mark_reported(failed.generation)
        self._current, self._probation = self._last_good, None
        self._retire(failed)
        outcome = f"rolled back to {self._current.generation if self._current else '(none)'}"
        log.error("generation %s %s; %s", failed.generation, reason, outcome)
        return version_event("rolled_back", failed, tick, f"{reason}; {outcome}")

    # -- background side ---------------------------------------------------------
    def _held(self) -> Held:
        with self._lock:
            return Held(self._current, self._last_good, self._candidate)

    def _deliver(self, outcome: Outcome) -> None:
        """Called by the background thread with each attempt's outcome."""
        try:
            self._take(outcome)
        finally:
            awaiting = self._awaiting
            if awaiting is not None and self._builder.follower.last_target is awaiting:
                self._adopted.set()  # the attempt on the new target is in (ready or not)

    def _take(self, outcome: Outcome) -> None:
        with self._lock:
            if outcome.event is not None:
                self._events.append(outcome.event)
            if outcome.status == "current":  # the folder is back to what runs
                new = None
            elif outcome.status == "ready" and outcome.version is not None:
                new = outcome.version
            else:
                return
            if new is not None and new.package not in sys.modules:
                self._worker.wake()  # a last-good retired since the attempt looked: again
                return
            superseded, self._candidate = self._candidate, new
        self._retire(superseded)

    def _retire(self, version: CodeVersion | None) -> None:
        """Unload a version unless it is still current, last-good or pending."""
        if version is None or not version.package:
            return
        with self._lock:
            held = {v.package for v in (self._current, self._last_good, self._candidate) if v}
            if version.package not in held:
                unload(version.package)
