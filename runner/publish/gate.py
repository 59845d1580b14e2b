"""Is the strategies folder one complete tree right now?

Only two kinds of tree are ever published, and the gate proves which one it has:

1. **A commit's tree.** The bytes read from disk are, file for file, the blobs
   git committed for the folder at HEAD (`git ls-tree`, blob ids computed from
   the bytes we read). A half-applied checkout cannot pass: its files are a mix
   of two commits. No quiet window is needed, so a deploy publishes at once.
2. **A fully-written save** (not in a deploy checkout): the folder's stat
   signature held still for the quiet window, two reads a quiet window apart
   hash alike, no process holds a file open for writing (runner.reload's
   /proc scan), no editor save is half-way (vim's `4913` probe, a file renamed
   to its `~` / `___jb_old___` backup and not yet rewritten), and git's state
   (HEAD, index, lock, marker) did not move while we read.

Holds, whatever the kind:

- `index.lock` exists: a git command is changing the checkout (a git that
  died leaves it behind: git itself then refuses to run until it is removed);
- in a *deploy checkout* (the deploy hook's marker exists in the git dir),
  HEAD moved but the hook has not marked it complete yet; after `hook_grace`
  seconds (a `git reset --hard` runs no hook) a tree equal to HEAD's commit
  is accepted anyway;
- in a deploy checkout, a tree that is not exactly HEAD's commit. This is how
  an *interrupted checkout* looks: git writes the files first and moves HEAD
  and the index last, so a checkout killed (or failing, or whose stale
  index.lock was removed by hand) half-way leaves HEAD and the index on the old
  commit and the folder a mix of both. By its state alone that is
  indistinguishable from hand edits, so a deploy checkout never publishes
  uncommitted trees; the hold is reported once, naming the files.
  Without the hooks (a development checkout) edits are saves and publish.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runner.publish.gitstate import Checkout, GitState, differs_from
from runner.reload.gitinfo import GitError
from runner.reload.tree import Tree, read_stable_tree, read_tree, wait_quiet
from runner.reload.writers import find_writers

log = logging.getLogger(__name__)

SAVE_GRACE = 2.0  # seconds an editor backup counts as "save in progress"
_BACKUP_SUFFIXES = ("~", "___jb_old___", "___jb_tmp___")
_VIM_PROBE = 4913


@dataclass(frozen=True)
class Verdict:
    status: Literal["complete", "hold", "unsettled"]
    tree: Tree | None = None
    reason: str = ""  # hold: what the operator reads
    key: str = ""  # hold: stable id, so one hold is reported once
    git_sha: str = ""
    git_dirty: bool = False
    marked_at: float = 0.0  # the deploy hook's time when the tree is that deploy


def _hold(key: str, reason: str) -> Verdict:
    return Verdict("hold", reason=reason, key=key)


UNSETTLED = Verdict("unsettled")


class Gate:
    """Decides, for the folder as it is now, complete / hold / unsettled."""

    def __init__(
        self,
        directory: Path,
        checkout: Checkout | None,
        *,
        quiet: float,
        detect_writers: bool,
        hook_grace: float,
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.checkout = checkout
        self.quiet = quiet
        self.detect_writers = detect_writers
        self.hook_grace = hook_grace
        self._stop = stop
        self._clock = clock
        self._moved: tuple[str, float] | None = None  # (HEAD, since) awaiting the hook

    def check(self) -> Verdict:
        try:
            git = self.checkout.state() if self.checkout is not None else None
            return self._check(git)
        except GitError as exc:
            return _hold("git", f"git failed, retrying: {exc}")

    def _check(self, git: GitState | None) -> Verdict:
        held = self._git_hold(git)
        if held is not None:
            return held
        saving = save_in_progress(self.directory, time.time())
        if saving:
            return _hold("saving", saving)
        tree = read_tree(self.directory)
        committed = self._committed(git)
        if committed is not None and git is not None:
            changed = differs_from(tree, committed)
            if not changed:
                return self._commit_tree(tree, git)
            if git.marker is not None:
                return self._dirty_deploy(tree, git, changed)
        return self._save(git, committed)

    def _git_hold(self, git: GitState | None) -> Verdict | None:
        if git is None:
            return None
        if git.locked:
            return _hold(
                "locked",
                f"{self.checkout.lock_file if self.checkout else 'index.lock'} exists: a git "
                "command is changing the checkout (if no git runs, one died: remove the file)",
            )
        if git.marker is None or git.marker.sha == git.head:
            self._moved = None
            return None
        if self._moved is None or self._moved[0] != git.head:
            self._moved = (git.head, self._clock())
        if self._clock() - self._moved[1] >= self.hook_grace:
            return None  # no hook came (git reset --hard): a commit's tree is still accepted
        return _hold(
            f"hook:{git.head}",
            f"HEAD moved to {git.head[:12]}; waiting for the deploy hook to mark it complete",
        )

    def _committed(self, git: GitState | None) -> dict[str, str] | None:
        if git is None or not git.head or self.checkout is None:
            return None
        return self.checkout.committed(git.head)

    def _commit_tree(self, tree: Tree, git: GitState) -> Verdict:
        marked = git.marker is not None and git.marker.sha == git.head
        return Verdict(
            "complete",
            tree=tree,
            git_sha=git.head,
            marked_at=git.marker.ts if marked and git.marker is not None else 0.0,
        )

    def _dirty_deploy(self, tree: Tree, git: GitState, changed: list[str]) -> Verdict:
        files = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more" if changed[10:] else "")
        return _hold(
            f"dirty:{git.head}:{tree.generation}",
            f"deploy checkout: the folder differs from HEAD {git.head[:12]} in {files} "
            "(an interrupted checkout, or a hand edit); not published. Finish the checkout "
            "(git checkout -f / git reset --hard <sha>) or commit the change",
        )

    def _save(self, git: GitState | None, committed: dict[str, str] | None) -> Verdict:
        until = time.monotonic() + max(2.0, 20 * self.quiet)
        if wait_quiet(self.directory, self.quiet, self._stop.wait, until) is None:
            return UNSETTLED
        tree = read_stable_tree(self.directory, self.quiet, self._stop.wait)
        if tree is None or self._stop.is_set():
            return UNSETTLED
        writers = self._writers(tree)
        if writers:
            return _hold(
                f"writers:{tree.generation}:{writers}",
                f"still open for writing: {writers}; published once the writer closes it",
            )
        if save_in_progress(self.directory, time.time()):
            return UNSETTLED
        if git is not None and self.checkout is not None and self.checkout.state() != git:
            return UNSETTLED  # git moved while we read: read again
        sha = git.head if git is not None else ""
        dirty = committed is not None and bool(differs_from(tree, committed))
        return Verdict("complete", tree=tree, git_sha=sha, git_dirty=dirty)

    def _writers(self, tree: Tree) -> str:
        if not self.detect_writers:
            return ""
        return ", ".join(sorted({str(w) for w in find_writers(tree.paths)}))


def save_in_progress(directory: Path, now: float) -> str:
    """Why an editor seems half-way through a save ("" when none does)."""
    try:
        with os.scandir(directory) as it:
            entries = {e.name: e for e in it}
    except OSError:
        return ""
    for name, entry in entries.items():
        if _is_vim_probe(name):
            return f"vim is saving ({name} probe file present)"
        for suffix in _BACKUP_SUFFIXES:
            original = name[: -len(suffix)]
            if (
                name.endswith(suffix)
                and original.endswith(".py")
                and original not in entries
                and _changed_within(entry, now, SAVE_GRACE)
            ):
                return f"{original} is being saved ({name} present, {original} not yet)"
    return ""


def _is_vim_probe(name: str) -> bool:
    """vim tries `4913`, then 4913 + 123 n, to learn whether it may create files here."""
    return name.isdigit() and int(name) >= _VIM_PROBE and (int(name) - _VIM_PROBE) % 123 == 0


def _changed_within(entry: os.DirEntry[str], now: float, seconds: float) -> bool:
    try:
        return now - entry.stat(follow_symlinks=False).st_ctime < seconds
    except OSError:
        return False
