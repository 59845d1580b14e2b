"""Following a watcher: adopt a published generation without validating it again.

The watcher validated the tree in a child process and published its file
hashes. A following runner reads its own folder once and compares every
file's sha256 with the published ones. Equal hashes prove the bytes are that
complete, validated tree (a half-written file cannot hash alike), so no quiet
window, double read or writer scan is needed: the runner loads them in-process
(`load_tree`) and the reloader swaps them in at the next tick boundary, with
the usual probation, rollback and quarantine.

Different hashes (another host's checkout, a save the watcher has not
published yet) are a *mismatch*: nothing loads. A mismatch that lasts
`grace` seconds is reported once per (published, local) pair, naming the files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from runner.reload.events import select, tree_event
from runner.reload.loader import load_tree
from runner.reload.model import Published, ValidationError
from runner.reload.outcome import Held, Outcome
from runner.reload.quarantine import Quarantine
from runner.reload.tree import Tree, make_tree, read_tree

log = logging.getLogger(__name__)


def differing_files(local: Mapping[str, str], published: Mapping[str, str]) -> list[str]:
    """Relpaths whose hash differs, or that exist on one side only, sorted."""
    return sorted(n for n in set(local) | set(published) if local.get(n) != published.get(n))


def describe_mismatch(local: Mapping[str, str], target: Published) -> str:
    parts = []
    for name in differing_files(local, target.files):
        if name not in local:
            parts.append(f"{name} (missing here)")
        elif name not in target.files:
            parts.append(f"{name} (not published)")
        else:
            parts.append(f"{name} (here {local[name][:12]}, published {target.files[name][:12]})")
    where = f"git {target.git_sha[:12]}" if target.git_sha else "no git"
    return (
        f"this folder differs from published generation {target.generation} "
        f"(seq {target.seq}, {where}): {', '.join(parts)}; not loaded. "
        "Check out the same commit here to adopt it"
    )


class Follower:
    """Adopt attempts against a published generation; remembers what it already reported."""

    def __init__(
        self,
        directory: Path,
        quarantine: Quarantine,
        only: frozenset[str] | None,
        grace: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.quarantine = quarantine
        self.only = only
        self.grace = grace
        self._clock = clock
        self._reported = ""  # what was last reported: "<kind>:<published>:<local>"
        self._pair: tuple[str, str] | None = None  # (published, local) mismatch being timed
        self._since = 0.0
        self.last_target: Published | None = None  # of the latest attempt

    def mark_reported(self, generation: str) -> None:
        """Do not report this generation as rejected again (it was just rolled back)."""
        self._reported = f"rejected:{generation}:{generation}"

    def attempt(self, target: Published, held: Held, forced: bool) -> Outcome:
        """Read the folder once; adopt `target` when it holds exactly the published files."""
        self.last_target = target
        try:
            tree = read_tree(self.directory)
        except OSError as exc:
            return self._report("rejected", target, make_empty(self.directory), str(exc), forced)
        if dict(tree.hashes) != dict(target.files):
            return self._mismatch(tree, target, forced)
        self._pair = None
        gen = target.generation
        if held.current is not None and held.current.generation == gen:
            return Outcome("current")
        if held.candidate is not None and held.candidate.generation == gen:
            return Outcome("unchanged")
        if held.last_good is not None and held.last_good.generation == gen:
            return Outcome("ready", version=held.last_good)
        if self.quarantine.contains(gen):
            msg = (
                f"published generation {gen} is quarantined: it failed probation; "
                "change the code to load it again"
            )
            return self._report("rejected", target, tree, msg, forced)
        missing = sorted((self.only or frozenset()) - set(target.strategies))
        if missing:
            msg = f"selected strategies not in published generation {gen}: {', '.join(missing)}"
            return self._report("rejected", target, tree, msg, forced)
        return self._load(tree, target, forced)

    def _load(self, tree: Tree, target: Published, forced: bool) -> Outcome:
        started = time.monotonic()
        try:
            version = load_tree(tree, git_sha=target.git_sha, git_dirty=target.git_dirty)
        except ValidationError as exc:  # validated by the watcher, yet fails here: report it
            return self._report("rejected", target, tree, exc.args[0], forced)
        log.info(
            "adopted published generation %s (seq %d) in %.1f ms, no second validation",
            target.generation,
            target.seq,
            (time.monotonic() - started) * 1000,
        )
        return Outcome("ready", version=select(version, self.only))

    def _mismatch(self, tree: Tree, target: Published, forced: bool) -> Outcome:
        pair = (target.generation, tree.generation)
        now = self._clock()
        if pair != self._pair:
            self._pair, self._since = pair, now
        if now - self._since < self.grace:
            return Outcome("deferred")  # the watcher may be about to publish what we see
        msg = describe_mismatch(tree.hashes, target)
        outcome = self._report("mismatch", target, tree, msg, forced)
        return outcome if outcome.event is not None else Outcome("mismatch")

    def _report(
        self, kind: Literal["rejected", "mismatch"], target: Published, tree: Tree, msg: str,
        forced: bool,
    ) -> Outcome:  # fmt: skip
        key = f"{kind}:{target.generation}:{tree.generation}"
        if key == self._reported and not forced:
            return Outcome("unchanged" if kind == "rejected" else "mismatch")
        self._reported = key
        log.warning("%s", msg)
        git = (target.git_sha, target.git_dirty)
        event = tree_event(kind, tree, msg, modules=(), git=git)
        return Outcome("rejected" if kind == "rejected" else "mismatch", event=event)


def make_empty(directory: Path) -> Tree:
    return make_tree(directory, {})
