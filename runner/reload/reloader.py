"""The runner's handle on strategy code: current + last-good, swapped at tick boundaries.

Code reaches a runner one way: the publisher (runner.publish; `neverblink
watch`, or the runner's own in-process one) validates a complete tree and
publishes it; each tick the runner tells the reloader what is published
(`adopt`) and calls `at_tick_boundary(tick)`, which adopts a published
generation whose files the runner's folder holds (read, hash, load through its
`CodeLoader`: a runner's loads into its strategy host, see runner.host.loading;
no second validation) and swaps it in. Then the runner runs the strategies of `current`
and calls `report_tick(tick, failures)`. A version that fails within its first
`probation_ticks` ticks is rolled back to last-good and quarantined; one that
survives becomes last-good. The first version of a process has no fallback, so
it is last-good at once (no probation). Versions neither current nor last-good
are unloaded (from the host, or from sys.modules in-process).

No lock: everything runs on the tick's thread (a host loader prepares on a
thread of its own and answers "not yet" until its candidate is ready). The folder is read
only when its stat signature, the published record or a forced reload says
something changed.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.reload.adopt import Adopter, Adoption, CodeLoader, Held
from runner.reload.events import version_event
from runner.reload.model import CodeVersion, Published, Rejected, ReloadEvent
from runner.reload.quarantine import LayeredQuarantine, MemoryQuarantine, Quarantine
from runner.reload.tree import StatSignature, stat_signature

log = logging.getLogger(__name__)


@dataclass
class _Probation:
    live_tick: int | None  # None: went live before the first tick
    ok_ticks: int = 0


class Reloader:
    """Adopts published generations of the strategies folder as one versioned unit.

    `only`: names of the strategies this runner runs. The whole folder is one
    generation (validated whole by the publisher, so every replica agrees on
    what is live), but `current.strategies` holds only these, and a selected
    name missing from the published generation rejects it here.
    """

    def __init__(
        self,
        directory: Path,
        *,
        probation_ticks: int = 20,
        quarantine: Quarantine | None = None,
        only: Collection[str] | None = None,
        mismatch_grace_seconds: float = 5.0,
        loader: CodeLoader | None = None,
    ) -> None:
        self.directory = Path(directory).absolute()
        self.probation_ticks = probation_ticks
        self.quarantine: Quarantine = MemoryQuarantine() if quarantine is None else quarantine
        known = LayeredQuarantine(self.quarantine)  # our own memory survives a Redis outage
        self._known = known
        self._adopter = Adopter(
            self.directory,
            known,
            None if only is None else frozenset(only),
            mismatch_grace_seconds,
            loader=loader,
        )
        self._current: CodeVersion | None = None
        self._last_good: CodeVersion | None = None
        self._probation: _Probation | None = None
        self._target: Published | None = None
        self._rejected: Rejected | None = None
        self._signature: StatSignature | None = None
        self._dirty = True
        self._forced = False
        self.attempts = 0  # folder reads so far (tests and status)

    # -- what the runner reads ---------------------------------------------
    @property
    def current(self) -> CodeVersion | None:
        return self._current

    @property
    def last_good(self) -> CodeVersion | None:
        return self._last_good

    @property
    def on_probation(self) -> bool:
        return self._probation is not None

    @property
    def target(self) -> Published | None:
        """The published generation the runner was last told about."""
        return self._target

    @property
    def rejected(self) -> Rejected | None:
        return self._rejected

    # -- every tick ----------------------------------------------------------
    def adopt(self, target: Published | None, rejected: Rejected | None = None) -> None:
        """What the publisher says now: the published generation, the tree it rejected last."""
        if target != self._target or rejected != self._rejected:
            self._target, self._rejected = target, rejected
            self._dirty = True

    def request_reload(self) -> None:
        """Read the folder again now, and report again what was already reported."""
        self._dirty = self._forced = True

    def at_tick_boundary(self, tick: int | None) -> list[ReloadEvent]:
        """Adopt and swap in the published generation if the folder holds it.

        `tick`: the tick about to run (None: before the first tick)."""
        signature = stat_signature(self.directory)
        if signature != self._signature:
            self._signature, self._dirty = signature, True
        if not self._dirty:
            return []
        forced, self._forced = self._forced, False
        self.attempts += 1
        held = Held(self._current, self._last_good)
        adoption = self._adopter.attempt(self._target, self._rejected, held, forced)
        self._dirty = adoption.status == "waiting"
        return self._take(adoption, tick)

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
        """Unload every held version."""
        held = {v.generation: v for v in (self._current, self._last_good) if v is not None}
        self._current = self._last_good = None
        for version in held.values():
            self._adopter.loader.unload(version)
        self._adopter.loader.close()

    # -- transitions -----------------------------------------------------------
    def _take(self, adoption: Adoption, tick: int | None) -> list[ReloadEvent]:
        events = [adoption.event] if adoption.event is not None else []
        version = adoption.version
        if adoption.status == "ready" and version is not None:
            events += self._go_live(version, tick)
        return events

    def _go_live(self, version: CodeVersion, tick: int | None) -> list[ReloadEvent]:
        previous = self._current
        proven = self._last_good is not None and version is self._last_good
        self._current = version
        self._probation = None if proven else _Probation(tick)
        self._retire(previous)
        when = "before the first tick" if tick is None else f"at tick {tick}"
        log.info("generation %s live %s", version.generation, when)
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
        self._known.add(failed.generation, reason)  # never raises
        self._adopter.mark_reported(failed.generation)
        self._current, self._probation = self._last_good, None
        self._retire(failed)
        outcome = f"rolled back to {self._current.generation if self._current else '(none)'}"
        log.error("generation %s %s; %s", failed.generation, reason, outcome)
        return version_event("rolled_back", failed, tick, f"{reason}; {outcome}")

    def _retire(self, version: CodeVersion | None) -> None:
        """Unload a version unless it is still current or last-good."""
        if version is None:
            return
        held = {v.generation for v in (self._current, self._last_good) if v}
        if version.generation not in held:
            self._adopter.loader.unload(version)
