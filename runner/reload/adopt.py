"""Adopting a published generation: the only way code reaches a runner.

The publisher (runner.publish) validated the tree in a child process and
published its file hashes. The runner reads its own folder once and compares
every file's sha256 with the published ones. Equal hashes prove the bytes are
that complete, validated tree (a half-written file cannot hash alike), so no
quiet window, double read or writer scan is needed: the reloader's
`CodeLoader` loads them (a runner's: into its strategy host, beside the tick,
`runner.host.loading`; "waiting" until the host is ready) and the reloader
swaps them in at the tick boundary, with the usual probation, rollback and
quarantine.

Different hashes are one of two things:

- the tree the publisher *rejected* (a typo): reported once as "rejected" with
  the publisher's error, since the previous generation keeps running;
- anything else (another host's checkout, a save not published yet): a
  *mismatch*; nothing loads. One that lasts `grace` seconds is reported once
  per (published, local) pair, naming the files.

When the folder holds the live generation again after such a report, that is
reported once as "restored" (ok), so the last word is no longer a failure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from runner.reload.events import select, tree_event
from runner.reload.loader import load_tree, unload
from runner.reload.model import CodeVersion, Published, Rejected, ReloadEvent, ValidationError
from runner.reload.quarantine import Quarantine
from runner.reload.tree import Tree, make_tree, read_tree

log = logging.getLogger(__name__)

# waiting: a mismatch still within its grace, or a load not finished (look again next tick)
Status = Literal["ready", "current", "rejected", "mismatch", "waiting", "unchanged"]


class CodeLoader(Protocol):
    """How the reloader loads and forgets generations."""

    def load(
        self, tree: Tree, *, git_sha: str, git_dirty: bool, keep: Sequence[str]
    ) -> CodeVersion | None:
        """The loaded version; None while the load goes on (ask again next tick);
        ValidationError when the tree cannot load. `keep`: generations still held."""
        ...

    def unload(self, version: CodeVersion) -> None: ...

    def close(self) -> None: ...


class InProcessLoader:
    """Loads into this interpreter (`load_tree`): for tests and tools of the reload plane.

    A runner never uses it: `runner.build` gives its reloader a `HostLoader`.
    """

    def load(
        self, tree: Tree, *, git_sha: str, git_dirty: bool, keep: Sequence[str]
    ) -> CodeVersion | None:
        return load_tree(tree, git_sha=git_sha, git_dirty=git_dirty)

    def unload(self, version: CodeVersion) -> None:
        if version.package:
            unload(version.package)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Held:
    """The versions the reloader holds right now."""

    current: CodeVersion | None = None
    last_good: CodeVersion | None = None


@dataclass(frozen=True)
class Adoption:
    """What one adopt attempt found: a version to swap in, and/or an event to report."""

    status: Status
    version: CodeVersion | None = None  # when ready
    event: ReloadEvent | None = None


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


class Adopter:
    """Adopt attempts against a published generation; remembers what it already reported."""

    def __init__(
        self,
        directory: Path,
        quarantine: Quarantine,
        only: frozenset[str] | None,
        grace: float,
        clock: Callable[[], float] = time.monotonic,
        loader: CodeLoader | None = None,
    ) -> None:
        self.directory = directory
        self.loader: CodeLoader = loader or InProcessLoader()
        self.quarantine = quarantine
        self.only = only
        self.grace = grace
        self._clock = clock
        self._reported = ""  # what was last reported: "<kind>:<published>:<local>"
        self._pair: tuple[str, str] | None = None  # (published, local) mismatch being timed
        self._since = 0.0

    def mark_reported(self, generation: str) -> None:
        """Do not report this generation as rejected again (it was just rolled back)."""
        self._reported = f"rejected:{generation}:{generation}"

    def attempt(
        self, target: Published | None, rejected: Rejected | None, held: Held, forced: bool
    ) -> Adoption:
        """Read the folder once; adopt `target` when it holds exactly the published files."""
        try:
            tree = read_tree(self.directory)
        except OSError as exc:
            return self._report("rejected", target, make_tree(self.directory, {}), str(exc), forced)
        if rejected is not None and tree.generation == rejected.generation:
            self._pair = None
            return self._report("rejected", target, tree, rejected.error, forced)
        if target is None:
            return Adoption("unchanged")  # nothing published yet: wait for a publish
        if dict(tree.hashes) != dict(target.files):
            return self._mismatch(tree, target, forced)
        self._pair = None
        return self._matching(tree, target, held, forced)

    def _matching(self, tree: Tree, target: Published, held: Held, forced: bool) -> Adoption:
        gen = target.generation
        if held.current is not None and held.current.generation == gen:
            return self._restored(held.current)
        if held.last_good is not None and held.last_good.generation == gen:
            return Adoption("ready", version=held.last_good)
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
        keep = [v.generation for v in (held.current, held.last_good) if v is not None]
        return self._load(tree, target, forced, keep)

    def _restored(self, current: CodeVersion) -> Adoption:
        if not self._reported or self._reported.endswith(f":{current.generation}"):
            return Adoption("current")
        self._reported = ""
        log.info("the folder holds live generation %s again", current.generation)
        event = ReloadEvent(
            "restored",
            current.generation,
            time.time(),
            True,
            "",
            current.files,
            current.modules,
            current.git_sha,
            current.git_dirty,
            None,
        )
        return Adoption("current", event=event)

    def _load(self, tree: Tree, target: Published, forced: bool, keep: list[str]) -> Adoption:
        started = time.monotonic()
        try:
            version = self.loader.load(
                tree, git_sha=target.git_sha, git_dirty=target.git_dirty, keep=keep
            )
        except ValidationError as exc:  # validated by the publisher, yet fails here: report it
            return self._report("rejected", target, tree, exc.args[0], forced)
        if version is None:
            return Adoption("waiting")
        self._reported = ""
        log.info(
            "adopted published generation %s (seq %d) in %.1f ms",
            target.generation,
            target.seq,
            (time.monotonic() - started) * 1000,
        )
        return Adoption("ready", version=select(version, self.only))

    def _mismatch(self, tree: Tree, target: Published, forced: bool) -> Adoption:
        pair = (target.generation, tree.generation)
        now = self._clock()
        if pair != self._pair:
            self._pair, self._since = pair, now
        if now - self._since < self.grace:
            return Adoption("waiting")  # the publisher may be about to publish what we see
        msg = describe_mismatch(tree.hashes, target)
        return self._report("mismatch", target, tree, msg, forced)

    def _report(
        self, kind: Literal["rejected", "mismatch"], target: Published | None, tree: Tree,
        msg: str, forced: bool,
    ) -> Adoption:  # fmt: skip
        published = target.generation if target is not None else ""
        key = f"{kind}:{published}:{tree.generation}"
        if key == self._reported and not forced:
            return Adoption("unchanged")
        self._reported = key
        log.warning("%s", msg)
        git = (target.git_sha, target.git_dirty) if target is not None else ("", False)
        event = tree_event(kind, tree, msg, modules=(), git=git)
        return Adoption(kind, event=event)
