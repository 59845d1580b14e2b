"""Desired state: what the operator wants the bot to do, as one versioned record.

Commands never call into a running loop: they write a new `DesiredState`
(version + 1) to Redis and to `control.json`; every runner reads it at the
start of each tick, the higher version wins.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ConfigValue = bool | int | float | str
MAX_CONTROL_FILE_BYTES = 1_000_000


class DesiredState(BaseModel):
    """The operator's wishes. `reload_seq`/`flatten_seq` are bumped to request one action."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(default=0, ge=0)
    paused: bool = False
    killed: bool = False
    config: dict[str, dict[str, ConfigValue]] = Field(default_factory=dict)
    reload_seq: int = Field(default=0, ge=0)
    reload_module: str = ""
    flatten_seq: int = Field(default=0, ge=0)
    updated_at: float = 0.0
    updated_by: str = ""

    @property
    def entries_allowed(self) -> bool:
        return not (self.paused or self.killed)

    def to_redis(self) -> dict[str, str]:
        """Flat hash fields, readable with redis-cli HGETALL."""
        data = self.model_dump()
        out = {k: str(int(v)) if isinstance(v, bool) else str(v) for k, v in data.items()}
        out["config"] = json.dumps(data["config"], sort_keys=True)
        return out

    @classmethod
    def from_redis(cls, fields: dict[str, str]) -> DesiredState:
        data: dict[str, Any] = dict(fields)
        if "config" in data:
            data["config"] = json.loads(data["config"] or "{}")
        for flag in ("paused", "killed"):
            if flag in data:
                data[flag] = data[flag] in ("1", "true", "True")
        return cls.model_validate(data)


class InvalidControlFile(ValueError):
    """control.json exists but does not hold a valid desired state."""


def read_control_file(path: Path) -> DesiredState | None:
    """The state in control.json; None when absent; InvalidControlFile when unusable."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return None
    if size > MAX_CONTROL_FILE_BYTES:
        raise InvalidControlFile(f"{path} is {size} bytes (limit {MAX_CONTROL_FILE_BYTES})")
    try:
        raw = path.read_bytes()
        return DesiredState.model_validate_json(raw)
    except FileNotFoundError:
        return None
    except (ValidationError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidControlFile(f"{path}: {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return " ".join(text.splitlines()[:3])[:300]


def newer(a: DesiredState | None, b: DesiredState | None) -> DesiredState:
    """The state with the higher version (Redis `a` wins a tie)."""
    if a is None and b is None:
        return DesiredState()
    if b is None or (a is not None and a.version >= b.version):
        assert a is not None
        return a
    return b
