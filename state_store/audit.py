"""The audit log: one entry per change of the desired state.

Two copies: Redis stream `nb:{B}:audit` (written by the same Lua script as the
change, so a change is never without its entry) and `<home>/audit.jsonl`
(appended by the process that made the change, under the control.json lock).
Changes made with Redis down exist only in audit.jsonl until Redis is back:
convergence then adds them to the stream (plane "file").
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import redis
from pydantic import BaseModel, ConfigDict, Field

from state_store.keys import Keys

STREAM_MAXLEN = 100_000  # approximate cap of the Redis copy; audit.jsonl keeps everything
TAIL_BYTES = 256 * 1024  # how much of audit.jsonl the version high-water mark looks at


class AuditEntry(BaseModel):
    """Who changed what, from which version to which, on which plane."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ts: float
    who: str = ""
    command: str
    old_version: int = 0
    new_version: int = 0
    plane: str = ""  # "redis" or "file"
    change_id: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    host: str = ""
    bot: str = ""

    def to_json(self) -> dict[str, Any]:
        """The JSON object of one audit.jsonl line."""
        return self.model_dump(mode="json")

    def to_stream(self) -> dict[str, str]:
        """Flat stream fields: text, with `args` as JSON."""
        data = self.to_json()
        data["args"] = json.dumps(data["args"], sort_keys=True)
        return {k: str(v) for k, v in data.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEntry:
        """ValueError for a malformed entry."""
        return cls.model_validate({**data, "args": data.get("args") or {}})

    @classmethod
    def from_stream(cls, fields: Mapping[str, str]) -> AuditEntry:
        """ValueError for malformed fields."""
        return cls.from_json({**fields, "args": json.loads(fields.get("args") or "{}")})


def current_user() -> str:
    """The unix user running this process (for `who` of CLI commands)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER/LOGNAME and no passwd entry (containers)
        return f"uid:{os.getuid()}"


def hostname() -> str:
    return socket.gethostname()


def append_jsonl(path: Path, entry: AuditEntry) -> None:
    """Append one line with a single O_APPEND write, fsynced (callers hold the control lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry.to_json(), sort_keys=True, default=str) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_jsonl(path: Path) -> list[AuditEntry]:
    """Every well-formed entry of audit.jsonl, oldest first (malformed lines are skipped)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    return [e for e in (_parse_line(line) for line in text.splitlines()) if e is not None]


def tail_jsonl(path: Path, tail_bytes: int = TAIL_BYTES) -> list[AuditEntry]:
    """Well-formed entries in the last `tail_bytes` of audit.jsonl."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - tail_bytes))
            data = handle.read()
    except FileNotFoundError:
        return []
    lines = data.decode(errors="replace").splitlines()
    if len(data) >= tail_bytes and lines:
        lines = lines[1:]  # the first line may be cut
    return [e for e in (_parse_line(line) for line in lines) if e is not None]


def high_water(path: Path) -> int:
    """The highest version audit.jsonl recorded (0 if none): a new version must exceed it.

    It keeps versions rising when control.json was deleted or replaced while
    Redis is down, so runners (which never step back to a lower version) obey.
    """
    return max((e.new_version for e in tail_jsonl(path)), default=0)


def _parse_line(line: str) -> AuditEntry | None:
    try:
        data = json.loads(line)
        return AuditEntry.from_json(data) if isinstance(data, dict) else None
    except (ValueError, TypeError, KeyError):
        return None


def read_stream(client: redis.Redis, keys: Keys, count: int = 50) -> list[AuditEntry]:
    """The newest `count` entries of the Redis audit stream, oldest first."""
    rows = cast(list[tuple[str, dict[str, str]]], client.xrevrange(keys.audit, count=count))
    out = []
    for _, fields in reversed(rows):
        try:
            out.append(AuditEntry.from_stream(fields))
        except (ValueError, TypeError, KeyError):
            continue
    return out
