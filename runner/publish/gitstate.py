"""What git says about the checkout that holds the strategies folder.

- `index.lock` in the git dir: a git command is changing the index (checkout,
  merge, reset, pull, also a short `git status` refresh);
- HEAD: the commit checked out;
- the deploy marker `<git dir>/neverblink-deployed`, JSON `{"sha", "hook", "ts"}`,
  written by the hooks in deploy/hooks after a checkout/merge finished: the
  working tree of `sha` is complete. Its presence makes the checkout a
  *deploy checkout* (see gate.py);
- the committed blob ids of the strategies folder at a commit (`git ls-tree`),
  to check that the bytes read from disk are exactly a commit's files.

Every git command runs with GIT_OPTIONAL_LOCKS=0, so the publisher itself never
takes index.lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runner.reload.gitinfo import GitError, run_git
from runner.reload.tree import Tree, is_source_name

log = logging.getLogger(__name__)

MARKER_NAME = "neverblink-deployed"
_CACHE = 64  # commits whose folder listing is kept


@dataclass(frozen=True)
class Marker:
    """The deploy hook's word that the working tree of `sha` is complete."""

    sha: str
    hook: str
    ts: float  # unix time the hook ran


@dataclass(frozen=True)
class GitState:
    head: str  # "" when HEAD does not name a commit yet
    locked: bool  # index.lock exists
    marker: Marker | None
    index: tuple[int, int, int]  # (mtime_ns, size, inode) of the index file


def blob_id(data: bytes, object_id_length: int = 40) -> str:
    """Git's object id of a blob with these bytes (sha1, or sha256 repositories)."""
    digest = hashlib.sha256() if object_id_length == 64 else hashlib.sha1()
    digest.update(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


def differs_from(tree: Tree, committed: Mapping[str, str]) -> list[str]:
    """Files of `tree` that are not byte-for-byte the committed ones (or are missing/extra)."""
    length = len(next(iter(committed.values()))) if committed else 40
    ours = {f.name: blob_id(f.data, length) for f in tree.files}
    return sorted(n for n in set(ours) | set(committed) if ours.get(n) != committed.get(n))


class Checkout:
    """The git checkout around a strategies folder."""

    def __init__(self, top: Path, git_dir: Path, common_dir: Path, prefix: str) -> None:
        self.top = top
        self.git_dir = git_dir
        self.common_dir = common_dir
        self.prefix = prefix  # the folder relative to top, "" or ending in "/"
        self._committed: OrderedDict[str, dict[str, str]] = OrderedDict()

    @classmethod
    def discover(cls, directory: Path) -> Checkout | None:
        """The checkout holding `directory`; None outside git (or without git installed)."""
        try:
            out = run_git(
                directory,
                "rev-parse",
                "--show-toplevel",
                "--absolute-git-dir",
                "--git-common-dir",
                "--show-prefix",
            )
        except GitError:
            return None
        lines = out.split("\n")
        if len(lines) < 3:
            return None
        common = Path(lines[2])
        if not common.is_absolute():
            common = (directory / common).resolve()
        prefix = lines[3] if len(lines) > 3 else ""
        return cls(Path(lines[0]), Path(lines[1]), common, prefix)

    @property
    def lock_file(self) -> Path:
        return self.git_dir / "index.lock"

    @property
    def marker_file(self) -> Path:
        return self.git_dir / MARKER_NAME

    def watch_paths(self) -> list[Path]:
        """Where HEAD, refs, index.lock and the marker change."""
        paths = [self.git_dir]
        if self.common_dir != self.git_dir:
            paths.append(self.common_dir / "refs")
        return [p for p in paths if p.is_dir()]

    def state(self) -> GitState:
        """HEAD, lock, marker and index identity, read now. GitError when git fails."""
        locked = self.lock_file.exists()
        try:
            head = run_git(self.top, "rev-parse", "-q", "--verify", "HEAD^{commit}")
        except GitError:
            head = ""  # an empty repository, or HEAD mid-update
        return GitState(head, locked, self.marker(), _stat(self.git_dir / "index"))

    def marker(self) -> Marker | None:
        try:
            data = json.loads(self.marker_file.read_text())
            return Marker(str(data["sha"]), str(data.get("hook", "")), float(data.get("ts", 0)))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable deploy marker %s: %s", self.marker_file, exc)
            return Marker("", "", 0.0)  # present but unreadable: a deploy checkout, unmarked

    def committed(self, sha: str) -> dict[str, str]:
        """relpath -> blob id of the folder's source files at commit `sha` (cached)."""
        if sha in self._committed:
            self._committed.move_to_end(sha)
            return self._committed[sha]
        out = run_git(self.top, "ls-tree", "-z", sha, "--", self.prefix or ".")
        files: dict[str, str] = {}
        for entry in filter(None, out.split("\0")):
            meta, _, path = entry.partition("\t")
            mode, kind, oid = meta.split(" ")
            name = path[len(self.prefix) :] if path.startswith(self.prefix) else path
            if kind == "blob" and mode != "120000" and "/" not in name and is_source_name(name):
                files[name] = oid
        self._committed[sha] = files
        while len(self._committed) > _CACHE:
            self._committed.popitem(last=False)
        return files


def _stat(path: Path) -> tuple[int, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_size, st.st_ino)
