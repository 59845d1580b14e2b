"""Which files are still open for writing, by any process (Linux /proc).

A settle window cannot tell a finished file from a writer that paused halfway
while holding the file open. On Linux the kernel can: every open file of every
process shows up as `/proc/<pid>/fd/<n>` (a symlink to the file) and its open
flags as the octal `flags:` line of `/proc/<pid>/fdinfo/<n>`. Processes come
and go during the scan and other users' fds are unreadable without privileges:
both are skipped (an unreadable writer falls back to the quiet window).

A scan costs milliseconds (it walks every process), so callers run it only
after a change was detected, never on every tick.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROC = Path("/proc")
_WRITE_MODES = (os.O_WRONLY, os.O_RDWR)


@dataclass(frozen=True)
class Writer:
    """One process holding one of the files open for writing."""

    path: Path
    pid: int
    fd: int
    command: str

    def __str__(self) -> str:
        return f"{self.path.name} (pid {self.pid} {self.command}, fd {self.fd})"


def proc_available(proc: Path = PROC) -> bool:
    """True when this platform exposes per-process fds under `proc`."""
    return (proc / "self" / "fdinfo").is_dir()


def open_for_writing(paths: Iterable[Path], *, proc: Path = PROC) -> set[Path]:
    """The subset of `paths` that some process holds open with O_WRONLY or O_RDWR."""
    return {w.path for w in find_writers(paths, proc=proc)}


def find_writers(paths: Iterable[Path], *, proc: Path = PROC) -> list[Writer]:
    """Every (process, fd) holding one of `paths` open for writing."""
    targets = _Targets(paths)
    if not targets.by_path:
        return []
    found: list[Writer] = []
    for pid in _pids(proc):
        for fd, link in _fd_links(proc / str(pid)):
            path = targets.match(link, proc / str(pid) / "fd" / str(fd))
            if path is not None and _opened_for_write(proc / str(pid) / "fdinfo" / str(fd)):
                found.append(Writer(path, pid, fd, _command(proc / str(pid))))
    return found


class _Targets:
    """Our files by real path, plus (dev, inode) for fds whose path looks different
    (another mount namespace, a bind mount)."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.by_path: dict[str, Path] = {}
        self.by_inode: dict[tuple[int, int], Path] = {}
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                continue
            self.by_path[os.path.realpath(path)] = path
            self.by_inode[(st.st_dev, st.st_ino)] = path
        self.names = {os.path.basename(p) for p in self.by_path}

    def match(self, link: str, fd_path: Path) -> Path | None:
        hit = self.by_path.get(link)
        if hit is not None or os.path.basename(link) not in self.names:
            return hit
        try:
            st = os.stat(fd_path)  # follows the fd to the open file itself
        except OSError:
            return None
        return self.by_inode.get((st.st_dev, st.st_ino))


def _pids(proc: Path) -> Iterator[int]:
    try:
        with os.scandir(proc) as it:
            names = [e.name for e in it if e.name.isdigit()]
    except OSError as exc:
        log.warning("cannot list %s: %s", proc, exc)
        return
    yield from (int(n) for n in names)


def _fd_links(pid_dir: Path) -> Iterator[tuple[int, str]]:
    fd_dir = pid_dir / "fd"
    try:
        fds = os.listdir(fd_dir)
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return  # the process exited mid-scan
    except PermissionError:
        log.debug("no permission to read %s", fd_dir)
        return
    for name in fds:
        try:
            yield int(name), os.readlink(fd_dir / name)
        except (OSError, ValueError):
            continue  # fd closed or process gone between listdir and readlink


def _opened_for_write(fdinfo: Path) -> bool:
    try:
        text = fdinfo.read_text()
    except OSError:
        return False  # closed meanwhile: not a writer any more
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            try:
                flags = int(value.strip(), 8)
            except ValueError:
                return False
            return (flags & os.O_ACCMODE) in _WRITE_MODES
    return False


def _command(pid_dir: Path) -> str:
    try:
        return (pid_dir / "comm").read_text().strip() or "?"
    except OSError:
        return "?"
