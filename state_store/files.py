"""Atomic, locked writes of the home's JSON files (control.json, status.json).

A writer takes `<file>.lock`, writes a temp file in the same folder, fsyncs
it, renames it over the target and fsyncs the folder: a reader sees the old
file or the new one, never half of either.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

LOCK_TIMEOUT_S = 10.0


def lock_for(path: Path) -> FileLock:
    return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace `path` with `data` as JSON (caller holds the lock if others write too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2, sort_keys=True, default=str)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None when it is missing or not valid JSON."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def update_json_locked(path: Path, change: Callable[[Any], Any]) -> Any:
    """Read-modify-write under the file lock; `change` gets the current data (or None)."""
    with lock_for(path):
        updated = change(read_json(path))
        write_json_atomic(path, updated)
        return updated
