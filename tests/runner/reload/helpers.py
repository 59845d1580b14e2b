"""Helpers for the reload tests: writing strategy files, bounded waits, a tick driver."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from textwrap import dedent
from typing import Any

from runner.reload import Reloader, ReloadEvent
from state_store.view import View

WAIT = 15.0  # generous bound for "eventually"; tests poll, never assert speed


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(dedent(text).lstrip())
    return path


def wait_for(condition: Callable[[], object], timeout: float = WAIT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(0.005)


GOOD = """
def decide(view):
    return ["v1"]
"""


class Driver:
    """Plays the runner: poll, swap, call every strategy's decide, report failures."""

    def __init__(self, reloader: Reloader) -> None:
        self.reloader = reloader
        self.tick = 0
        self.events: list[ReloadEvent] = []
        self.results: list[dict[str, Any]] = []  # per tick: strategy -> decide() result

    def step(self) -> list[ReloadEvent]:
        r = self.reloader
        self.tick += 1
        r.poll()
        new = [*r.drain_events(), *r.at_tick_boundary(self.tick)]
        failures = self._decide_all()
        new += r.report_tick(self.tick, failures)
        self.events += new
        return new

    def _decide_all(self) -> Mapping[str, str]:
        code = self.reloader.current
        results: dict[str, Any] = {}
        failures: dict[str, str] = {}
        if code is not None:
            for name, strategy in code.strategies.items():
                view = View(strategy=name, now=0.0, tick=self.tick, markets=())
                try:
                    results[name] = strategy.decide(view)
                except Exception as exc:
                    failures[name] = traceback.format_exception_only(exc)[-1].strip()
        self.results.append(results)
        return failures

    def until(self, condition: Callable[[], object], timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                kinds = [(e.kind, e.generation, e.error[:200]) for e in self.events]
                raise AssertionError(f"timed out; events so far: {kinds}")
            self.step()
            time.sleep(0.002)

    def until_event(
        self, kind: str, since: int | None = None, timeout: float = WAIT
    ) -> ReloadEvent:
        """The first `kind` event from index `since` of self.events (default: from now on)."""
        start = len(self.events) if since is None else since
        self.until(lambda: any(e.kind == kind for e in self.events[start:]), timeout)
        return next(e for e in self.events[start:] if e.kind == kind)

    def idle_after(self, attempts_before: int) -> None:
        """Tick until the background thread has finished a pass that started after now."""
        self.until(lambda: self.reloader.attempts >= attempts_before + 1)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]
