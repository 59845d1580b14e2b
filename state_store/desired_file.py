"""The file copy of the desired state: `<home>/control.json`.

Writers hold `control.json.lock` (state_store/files.py) and replace the file
atomically. A file that cannot be used is never overwritten silently: the
service refuses (Redis down) or moves it aside to `control.json.rejected-<ts>`
before writing the Redis state over it (Redis up), and says so.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from state_store.desired import DesiredState, InvalidControlFile, read_control_file
from state_store.files import write_json_atomic


@dataclass(frozen=True)
class FileRead:
    """control.json as found: its state (None if absent or invalid) and why it is invalid."""

    state: DesiredState | None
    error: str = ""

    @property
    def version(self) -> int:
        return self.state.version if self.state is not None else -1


def read_file(path: Path) -> FileRead:
    try:
        return FileRead(read_control_file(path))
    except InvalidControlFile as exc:
        return FileRead(None, str(exc))


def write_file(path: Path, state: DesiredState) -> None:
    """Replace control.json with `state` (the caller holds the control lock)."""
    write_json_atomic(path, state.to_file())


def set_aside(path: Path) -> Path:
    """Rename an unusable control.json to `control.json.rejected-<unix ms>`; return the new path."""
    target = path.with_name(f"{path.name}.rejected-{int(time.time() * 1000)}")
    os.replace(path, target)
    return target
