"""From a changed folder to a validated, loaded candidate (runs off the tick path).

One attempt: wait until the writer went quiet (stat signature still for the
quiet window), read the tree twice a quiet window apart (same hash or try
again), skip what is already live or known bad, make sure no process still
holds a file open for writing, then validate in a child and load in-process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from pathlib import Path

from runner.reload.events import select, tree_event
from runner.reload.follow import Follower
from runner.reload.gitinfo import git_info
from runner.reload.isolation import Isolation
from runner.reload.loader import load_tree
from runner.reload.model import Published, ValidationError, ValidationResult
from runner.reload.outcome import Held, Outcome, Status
from runner.reload.quarantine import Quarantine
from runner.reload.tree import Tree, make_tree, read_stable_tree, wait_quiet
from runner.reload.validate import validate_tree
from runner.reload.writers import PROC, find_writers, proc_available

log = logging.getLogger(__name__)

__all__ = ["Builder", "Held", "Outcome", "Status"]


class Builder:
    """Turns the folder into candidates; remembers what it already reported."""

    def __init__(
        self,
        directory: Path,
        *,
        quiet: float,
        timeout: float,
        quarantine: Quarantine,
        isolation: Isolation,
        only: Collection[str] | None = None,
        detect_writers: bool | None = None,
        stop: threading.Event | None = None,
        proc: Path = PROC,
        mismatch_grace: float = 5.0,
    ) -> None:
        self.directory = directory
        self.quiet = quiet
        self.timeout = timeout
        self.quarantine = quarantine
        self.isolation = isolation
        self.only = None if only is None else frozenset(only)
        self.proc = proc
        self.detect_writers = proc_available(proc) if detect_writers is None else detect_writers
        self._stop = stop or threading.Event()
        self._reported = ""  # generation (or read error) already reported: rejected, quarantined
        self._deferred_on: tuple[str, frozenset[str]] | None = None
        # following a watcher: adopt this published generation instead of validating
        self.target: Published | None = None
        self.follower = Follower(directory, quarantine, self.only, mismatch_grace)

    def mark_reported(self, generation: str) -> None:
        """Do not report this generation again unless the tree changes or a reload is forced."""
        self._reported = generation
        self.follower.mark_reported(generation)

    def attempt(self, held: Held, forced: bool = False, until: float | None = None) -> Outcome:
        """One pass over the folder. `until`: monotonic deadline for the writer to go quiet."""
        target = self.target
        if target is not None:
            return self.follower.attempt(target, held, forced)
        if wait_quiet(self.directory, self.quiet, self._stop.wait, until) is None:
            return Outcome("unsettled")
        try:
            tree = read_stable_tree(self.directory, self.quiet, self._stop.wait)
        except OSError as exc:  # e.g. a file we may not read
            return self._unreadable(exc)
        if self._stop.is_set():
            return Outcome("stopped")
        if tree is None:
            log.debug("%s changed between two reads; waiting for it to settle", self.directory)
            return Outcome("unsettled")
        return self._consider(tree, held, forced)

    def _consider(self, tree: Tree, held: Held, forced: bool) -> Outcome:
        gen = tree.generation
        if held.current is not None and held.current.generation == gen:
            return Outcome("current")  # back to what runs: a pending candidate is stale
        if held.candidate is not None and held.candidate.generation == gen:
            return Outcome("unchanged")
        if held.last_good is not None and held.last_good.generation == gen:
            log.info("tree is back to last-good generation %s", gen)
            return Outcome("ready", version=held.last_good)
        if self.quarantine.contains(gen):
            return self._quarantined(tree, forced)
        if gen == self._reported and not forced:
            return Outcome("unchanged")
        writers = self._writers(tree)
        if writers:
            return self._deferred(tree, writers)
        self._deferred_on = None
        previous = tuple(held.current.strategies) if held.current is not None else ()
        return self._build(tree, previous)

    def _unreadable(self, exc: OSError) -> Outcome:
        msg = f"cannot read the strategies folder: {exc}"
        if msg == self._reported:
            return Outcome("unchanged")
        self._reported = msg
        log.warning("%s", msg)
        return Outcome("rejected", event=tree_event("rejected", make_tree(self.directory, {}), msg))

    def _quarantined(self, tree: Tree, forced: bool) -> Outcome:
        if tree.generation == self._reported and not forced:
            return Outcome("unchanged")
        self._reported = tree.generation
        msg = (
            f"generation {tree.generation} is quarantined: it failed probation; "
            "change the code to load it again"
        )
        log.warning("%s", msg)
        return Outcome("rejected", event=tree_event("rejected", tree, msg))

    def _writers(self, tree: Tree) -> list[str]:
        if not self.detect_writers:
            return []
        return sorted({str(w) for w in find_writers(tree.paths, proc=self.proc)})

    def _deferred(self, tree: Tree, writers: list[str]) -> Outcome:
        key = (tree.generation, frozenset(writers))
        if key == self._deferred_on:
            return Outcome("deferred")
        self._deferred_on = key
        msg = (
            f"not loaded yet: still open for writing: {', '.join(writers)}; "
            "a file is loaded only after its writer closes it"
        )
        log.info("%s", msg)
        return Outcome("deferred", event=tree_event("deferred", tree, msg))

    def _build(self, tree: Tree, previous: tuple[str, ...]) -> Outcome:
        started = time.monotonic()
        git = git_info(tree.directory)
        result = validate_tree(
            tree, self.timeout, only=self.only, isolation=self.isolation, previous=previous
        )
        if result.ok:
            try:
                version = load_tree(tree, git_sha=git[0], git_dirty=git[1])
            except ValidationError as exc:  # passed in the child, failed here: still a rejection
                result = ValidationResult(tree.generation, exc.problems, result.modules)
        if not result.ok:
            self._reported = tree.generation
            log.warning("rejected generation %s:\n%s", tree.generation, result.error)
            event = tree_event("rejected", tree, result.error, modules=result.modules, git=git)
            return Outcome("rejected", event=event)
        self._reported = ""
        log.info(
            "generation %s validated and loaded in %.1f ms (child %.1f ms)",
            tree.generation,
            (time.monotonic() - started) * 1000,
            result.seconds * 1000,
        )
        return Outcome("ready", version=select(version, self.only))
