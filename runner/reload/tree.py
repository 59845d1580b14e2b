"""The strategies folder as one versioned unit: which files count, their bytes, their hash.

A *tree* is every `*.py` file directly in the folder (not recursive), minus
`__init__.py`, dotfiles and editor droppings. Its *generation* is
sha256 over the sorted `(relpath, file sha256)` pairs, first 16 hex digits:
the same bytes under the same names give the same generation on every host.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

log = logging.getLogger(__name__)

# (name, mtime_ns, ctime_ns, size, inode) per source file, sorted by name
StatSignature = tuple[tuple[str, int, int, int, int], ...]


def is_source_name(name: str) -> bool:
    """True when a file name is part of the tree.

    Only `*.py` counts, which already leaves out editor droppings such as
    `x.py.swp`, `x.py~`, `#x.py#`, vim's `4913` probe and JetBrains'
    `x.py___jb_tmp___`; dotfiles (`.#x.py` emacs locks, `.x.py.tmp`) and
    `__init__.py` (the package is ours, see loader) are left out too.
    """
    return name.endswith(".py") and not name.startswith(".") and name != "__init__.py"


def _source_entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            entries = [e for e in it if is_source_name(e.name)]
    except FileNotFoundError:
        return []
    except OSError as exc:  # unreadable folder: an empty tree, which never validates
        log.debug("cannot list %s: %s", directory, exc)
        return []
    return sorted(entries, key=lambda e: e.name)


def stat_signature(directory: Path) -> StatSignature:
    """Cheap change detector: one stat() per source file, no reads. Call it every tick."""
    out = []
    for entry in _source_entries(directory):
        try:
            st = entry.stat()  # follows symlinks
        except FileNotFoundError:
            continue
        if entry.is_file():
            out.append((entry.name, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
    return tuple(out)


@dataclass(frozen=True)
class SourceFile:
    """One file's bytes, read once; these exact bytes are hashed, compiled and executed."""

    name: str  # relpath inside the folder, e.g. "momentum.py"
    path: Path
    data: bytes
    sha256: str

    @property
    def module(self) -> str:
        return self.name[: -len(".py")]


@dataclass(frozen=True)
class Tree:
    """A snapshot of the folder's source files, sorted by name."""

    directory: Path
    files: tuple[SourceFile, ...]
    generation: str

    @property
    def hashes(self) -> Mapping[str, str]:
        """relpath -> sha256 hex, read-only."""
        return MappingProxyType({f.name: f.sha256 for f in self.files})

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(f.path for f in self.files)


def generation_of(hashes: Mapping[str, str]) -> str:
    """sha256 over `relpath NUL sha256 LF` for each file sorted by relpath; first 16 hex."""
    digest = hashlib.sha256()
    for name in sorted(hashes):
        digest.update(f"{name}\0{hashes[name]}\n".encode())
    return digest.hexdigest()[:16]


def make_tree(directory: Path, sources: Mapping[str, bytes]) -> Tree:
    """A tree from in-memory bytes (what a publisher publishes, or a test builds)."""
    directory = Path(directory).absolute()
    files = tuple(
        SourceFile(name, directory / name, data, hashlib.sha256(data).hexdigest())
        for name, data in sorted(sources.items())
    )
    return Tree(directory, files, generation_of({f.name: f.sha256 for f in files}))


def read_tree(directory: Path) -> Tree:
    """Read every source file's bytes once and hash them. Files that vanish mid-read are skipped."""
    sources: dict[str, bytes] = {}
    for entry in _source_entries(directory):
        try:
            if not entry.is_file():
                continue
            with open(entry.path, "rb") as fh:
                sources[entry.name] = fh.read()
        except (FileNotFoundError, IsADirectoryError):
            continue
    return make_tree(directory, sources)


def read_stable_tree(
    directory: Path, quiet: float, sleep: Callable[[float], object]
) -> Tree | None:
    """Read the tree twice, `quiet` seconds apart: the second read if both hash alike, else None."""
    first = read_tree(directory)
    sleep(quiet)
    second = read_tree(directory)
    if first.generation != second.generation:
        return None
    return second


def wait_quiet(
    directory: Path,
    quiet: float,
    sleep: Callable[[float], object],
    until: float | None = None,
) -> StatSignature | None:
    """Block until the folder's stat signature holds still for `quiet` seconds; return it.

    None when `until` (a time.monotonic deadline) passes first. `sleep`
    returning True means "stop waiting" (threading.Event.wait works).
    """
    signature = stat_signature(directory)
    while True:
        if sleep(quiet) is True:
            return signature
        now = stat_signature(directory)
        if now == signature:
            return now
        if until is not None and time.monotonic() >= until:
            return None
        signature = now
