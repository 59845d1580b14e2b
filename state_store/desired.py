"""Desired state: what the operator wants the bot to do, as one versioned record.

Commands never call into a running loop: they write a new `DesiredState`
(version + 1) to Redis and to `control.json`; every runner reads it at the
start of each tick, the higher version wins.

`control.json` is parsed strictly: a wrong type (`"paused": "yes"`, `"version":
1.0`), an unknown field, a non-finite number or a version past 2**53 (Lua and
JSON numbers are doubles) makes the whole file invalid, and the last valid
state stays in force. A hand edit must bump `version` to win over Redis, and
must leave room for commands: a file whose `version`, `reload_seq` or
`flatten_seq` is above `MAX_FILE_VERSION` is refused, so a hand edit can never
take the version to where no command could bump it (control locked).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from state_store import risk as risk_limits

ConfigValue = bool | int | float | str
MAX_CONTROL_FILE_BYTES = 1_000_000
MAX_VERSION = 2**53 - 1  # exact in a double: Lua (CAS script) and JSON readers agree
COMMAND_ROOM = 2**32  # bumps a state from control.json must leave for commands
MAX_FILE_VERSION = MAX_VERSION - COMMAND_ROOM
BUMPED = ("version", "reload_seq", "flatten_seq")
NESTED = ("config", "risk")  # JSON text in the Redis hash


class DesiredState(BaseModel):
    """The operator's wishes. `reload_seq`/`flatten_seq` are bumped to request one action."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    version: int = Field(default=0, ge=0, le=MAX_VERSION)
    paused: bool = False
    killed: bool = False
    config: dict[str, dict[str, ConfigValue]] = Field(default_factory=dict)
    #: risk limit overrides, scope (`bot` or a strategy) -> limit -> value (state_store.risk)
    risk: dict[str, dict[str, ConfigValue]] = Field(default_factory=dict)
    reload_seq: int = Field(default=0, ge=0, le=MAX_VERSION)
    reload_module: str = ""
    flatten_seq: int = Field(default=0, ge=0, le=MAX_VERSION)
    updated_at: float = 0.0
    updated_by: str = ""
    change_id: str = ""  # the audit entry that produced this version (empty after a hand edit)

    @field_validator("risk")
    @classmethod
    def known_limits(
        cls, value: dict[str, dict[str, ConfigValue]]
    ) -> dict[str, dict[str, ConfigValue]]:
        found = risk_limits.problems(value)
        if found:
            raise ValueError("; ".join(found))
        return value

    @property
    def entries_allowed(self) -> bool:
        return not (self.paused or self.killed)

    def to_redis(self) -> dict[str, str]:
        """Flat hash fields, readable with redis-cli HGETALL."""
        data = self.model_dump()
        out = {k: str(int(v)) if isinstance(v, bool) else str(v) for k, v in data.items()}
        for nested in NESTED:
            out[nested] = json.dumps(data[nested], sort_keys=True)
        return out

    def to_file(self) -> dict[str, Any]:
        """The JSON document of control.json."""
        return self.model_dump(mode="json")

    @classmethod
    def from_redis(cls, fields: dict[str, str]) -> DesiredState:
        data: dict[str, Any] = dict(fields)
        for nested in NESTED:
            if nested in data:
                data[nested] = json.loads(data[nested] or "{}")
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
    except OSError as exc:
        raise InvalidControlFile(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if size > MAX_CONTROL_FILE_BYTES:
        raise InvalidControlFile(f"{path} is {size} bytes (limit {MAX_CONTROL_FILE_BYTES})")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:  # a directory, no permission, ...
        raise InvalidControlFile(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_control(raw, str(path))


def parse_control(raw: bytes | str, where: str = "control.json") -> DesiredState:
    """A desired state from JSON text, strictly typed; InvalidControlFile saying what is wrong."""
    if len(raw) > MAX_CONTROL_FILE_BYTES:
        raise InvalidControlFile(f"{where} is {len(raw)} bytes (limit {MAX_CONTROL_FILE_BYTES})")
    try:
        state = DesiredState.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise InvalidControlFile(f"{where}: {describe_errors(exc)}") from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidControlFile(f"{where}: {_first_line(exc)}") from exc
    problem = room_problem(state)
    if problem:
        raise InvalidControlFile(f"{where}: {problem}")
    return state


def room_problem(state: DesiredState) -> str:
    """Why a state from a file leaves commands no room to bump it; '' when it does."""
    for name in BUMPED:
        value = getattr(state, name)
        if value > MAX_FILE_VERSION:
            return (
                f"{name} {value} leaves no room for commands (at most {MAX_FILE_VERSION} is "
                f"accepted from a file; commands bump it up to {MAX_VERSION})"
            )
    return ""


def describe_errors(exc: ValidationError, limit: int = 3) -> str:
    """`field: message (got value)` for the first few errors of a validation."""
    parts = []
    for error in exc.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "document"
        text = f"{where}: {error['msg']}"
        if error["type"] != "json_invalid" and "input" in error:
            text += f" (got {_short(error['input'])})"
        parts.append(text)
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _first_line(exc: BaseException) -> str:
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
