"""Helpers for the reload tests: writing strategy files, bounded waits, a tick driver."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from textwrap import dedent
from typing import Any

import redis

from runner.publish.publisher import Publisher
from runner.published import published_target
from runner.reload import Reloader, ReloadEvent
from state_store.desired import DesiredState
from state_store.desired_redis import write_redis
from state_store.keys import Keys
from state_store.manifest import ManifestEntry, recent
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


class Bot:
    """One runner's reloader, and the bot's publisher (None: another Bot's, or none)."""

    def __init__(
        self,
        client: redis.Redis,
        directory: Path,
        publisher: Publisher | None,
        **reloader_options: Any,
    ) -> None:
        self.client = client
        self.keys = Keys("default")
        self.publisher = publisher
        self.reloader = Reloader(directory, **reloader_options)

    def sync(self) -> None:
        """What a tick's sync_published does: tell the reloader what is published."""
        self.reloader.adopt(*published_target(self.client, self.keys, self.reloader.target))

    def load_initial(self, timeout: float = WAIT) -> list[ReloadEvent]:
        """What build_runtime does before the first tick (runner.published.adopt_initial)."""
        deadline = time.monotonic() + timeout
        while True:
            self.sync()
            events = self.reloader.at_tick_boundary(None)
            if self.reloader.current is not None or events or time.monotonic() > deadline:
                return events
            time.sleep(0.005)

    def request_reload(self) -> None:
        """What `ctl reload` does: raise reload_seq in the desired state (the publisher
        revalidates and republishes), and what the tick does with it (reloader side)."""
        seq = int(self.client.hget(self.keys.control, "reload_seq") or 0) + 1
        version = int(self.client.hget(self.keys.control, "version") or 0) + 1
        state = DesiredState(version=version, reload_seq=seq, updated_at=time.time())
        write_redis(self.client, self.keys, state, [], "newer")
        self.reloader.request_reload()

    def driver(self) -> Driver:
        driver = Driver(self.reloader, self.sync)
        driver.bot = self
        return driver

    def manifest(self, kind: str = "") -> list[ManifestEntry]:
        """The publisher's manifest entries, oldest first (optionally of one kind)."""
        found = recent(self.client, self.keys, count=5000)
        return [e for e in found if e.replica == "watcher" and (not kind or e.kind == kind)]

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
        self.reloader.close()


class Driver:
    """Plays the runner: sync with the publisher, swap, call every decide, report failures."""

    def __init__(self, reloader: Reloader, sync: Callable[[], None] | None = None) -> None:
        self.reloader = reloader
        self.sync = sync  # None: the test calls reloader.adopt itself
        self.bot: Bot | None = None
        self.tick = 0
        self.events: list[ReloadEvent] = []
        self.results: list[dict[str, Any]] = []  # per tick: strategy -> decide() result

    def step(self) -> list[ReloadEvent]:
        r = self.reloader
        self.tick += 1
        if self.sync is not None:
            self.sync()
        new = list(r.at_tick_boundary(self.tick))
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

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]
