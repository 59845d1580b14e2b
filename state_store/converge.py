"""Convergence of the two copies of the desired state: the higher version wins.

- control.json newer than Redis (written while Redis was down, or a hand edit
  that bumped `version`): the file is copied into Redis, and the audit entries
  recorded in audit.jsonl meanwhile are added to the Redis stream (a hand edit,
  which has none, gets a `hand_edit` entry).
- Redis newer, or the same version with different content (a hand edit that did
  not bump `version` loses, with a warning): control.json is rewritten.
- control.json invalid: left alone and reported (runners keep the last valid
  state), unless `repair_invalid` (control commands): then it is moved aside to
  `control.json.rejected-<ts>` and rewritten from Redis, with a warning.
- `check` (a caller's validation of a newer control.json, e.g. config overrides
  against the strategies' PARAMS: the runner and the control plane know them,
  this layer does not) refusing it: treated as an invalid file, with its reason.

Call it with Redis up (it raises redis errors otherwise). When both copies
agree it takes no lock and writes nothing: two reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import filelock
import redis

from state_store.audit import AuditEntry, append_jsonl, hostname, tail_jsonl
from state_store.desired import DesiredState, newer
from state_store.desired_file import FileRead, read_file, set_aside, write_file
from state_store.desired_redis import RedisRead, read_redis, write_redis
from state_store.files import lock_for
from state_store.keys import Keys
from state_store.settings import Settings

Action = Literal["none", "file->redis", "redis->file"]
#: Why a desired state read from control.json must not be obeyed ('' when it may).
StateCheck = Callable[[DesiredState], str]
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Convergence:
    """The state both sides hold afterwards, what was copied, and what the operator should know."""

    state: DesiredState
    action: Action = "none"
    warnings: tuple[str, ...] = ()
    file_error: str = ""  # control.json is invalid (and was left alone)
    redis_error: str = ""  # the Redis hash is invalid


def converge(
    client: redis.Redis, settings: Settings, check: StateCheck | None = None
) -> DesiredState:
    """Copy the higher-versioned side to the other; return the state both now hold."""
    return converge_report(client, settings, check=check).state


def converge_report(
    client: redis.Redis,
    settings: Settings,
    *,
    repair_invalid: bool = False,
    check: StateCheck | None = None,
) -> Convergence:
    """`converge` with details; takes the control lock only when the sides differ."""
    red = read_redis(client, Keys(settings.bot))
    fil = read_file(settings.control_file)
    if not red.error and not fil.error and red.state == fil.state:
        return Convergence(red.state or DesiredState())
    try:
        with lock_for(settings.control_file):
            return converge_locked(client, settings, repair_invalid=repair_invalid, check=check)
    except filelock.Timeout:
        busy = f"{settings.control_file}.lock is held by another process: not converged now"
        return Convergence(newer(red.state, fil.state), warnings=(busy,), file_error=fil.error)


def converge_locked(
    client: redis.Redis,
    settings: Settings,
    *,
    repair_invalid: bool = False,
    check: StateCheck | None = None,
) -> Convergence:
    """Converge; the caller holds `lock_for(settings.control_file)`."""
    keys = Keys(settings.bot)
    for _ in range(MAX_ATTEMPTS):
        red = read_redis(client, keys)
        fil = _checked(read_file(settings.control_file), red, check)
        if fil.state is not None and fil.state.version > red.version:
            done = _file_to_redis(client, settings, red, fil.state)
            if done is not None:
                return done
            continue  # Redis moved on meanwhile (another host): look again
        return _redis_to_file(settings, red, fil, repair_invalid)
    return Convergence(
        fil.state or DesiredState(),
        warnings=(
            f"control.json (version {fil.version}) could not be copied to Redis: "
            f"{red.error or 'Redis kept changing'}",
        ),
        redis_error=red.error,
    )


def _checked(fil: FileRead, red: RedisRead, check: StateCheck | None) -> FileRead:
    """`fil`, or an invalid FileRead when `check` refuses a file that would win."""
    if check is None or fil.state is None or fil.state.version <= red.version:
        return fil
    problem = check(fil.state)
    if not problem:
        return fil
    return FileRead(None, f"control.json (version {fil.state.version}) refused: {problem}")


def _file_to_redis(
    client: redis.Redis, settings: Settings, red: RedisRead, state: DesiredState
) -> Convergence | None:
    entries = _missing_entries(settings, red.version, state)
    outcome = write_redis(client, Keys(settings.bot), state, entries, "newer")
    if outcome.outcome == "conflict":
        return None
    for entry in entries:
        if entry.command == "hand_edit":
            append_jsonl(settings.audit_file, entry)
    was = f"version {red.version}" if red.state is not None else "nothing"
    note = f"control.json (version {state.version}) is newer than Redis ({was}): copied to Redis"
    warnings = (f"{red.error}; replaced",) if red.error else ()
    return Convergence(state, "file->redis", (note, *warnings), redis_error=red.error)


def _missing_entries(
    settings: Settings, redis_version: int, state: DesiredState
) -> list[AuditEntry]:
    """audit.jsonl entries Redis has not seen; a `hand_edit` entry if the file has none."""
    entries = [
        e
        for e in tail_jsonl(settings.audit_file)
        if e.plane == "file" and redis_version < e.new_version <= state.version
    ]
    if not any(e.new_version == state.version for e in entries):
        entries.append(
            AuditEntry(
                ts=time.time(),
                who=state.updated_by or "unknown",
                command="hand_edit",
                old_version=max(redis_version, 0),
                new_version=state.version,
                plane="file",
                change_id=state.change_id,
                args={"source": "control.json"},
                host=hostname(),
                bot=settings.bot,
            )
        )
    return entries


def _redis_to_file(
    settings: Settings, red: RedisRead, fil: FileRead, repair_invalid: bool
) -> Convergence:
    path = settings.control_file
    if red.state is None:  # Redis empty (or invalid) and the file cannot help
        problems = [w for w in (red.error, fil.error) if w]
        if fil.error and repair_invalid:
            aside = set_aside(path)
            problems[-1] += f"; moved it to {aside.name}: Redis has no state either, "
            problems[-1] += "so this starts again from the default state"
            return Convergence(DesiredState(), warnings=tuple(problems), redis_error=red.error)
        return Convergence(
            DesiredState(), warnings=tuple(problems), file_error=fil.error, redis_error=red.error
        )
    if fil.error:
        if not repair_invalid:
            return Convergence(red.state, file_error=fil.error)
        aside = set_aside(path)
        write_file(path, red.state)
        note = (
            f"{fil.error}; moved it to {aside.name} and rewrote control.json "
            f"from Redis (version {red.state.version})"
        )
        return Convergence(red.state, "redis->file", (note,))
    if fil.state == red.state:
        return Convergence(red.state)
    warnings: tuple[str, ...] = ()
    same_version = fil.state is not None and fil.state.version == red.state.version
    if same_version and fil.state is not None and _wishes(fil.state) != _wishes(red.state):
        warnings = (
            f"control.json differs from Redis at the same version {red.state.version}: "
            "Redis wins (a hand edit must bump version to take effect); rewrote control.json",
        )
    write_file(path, red.state)
    return Convergence(red.state, "redis->file", warnings)


def _wishes(state: DesiredState) -> dict[str, object]:
    """What a state asks for, without who/when/which change wrote it."""
    return state.model_dump(exclude={"updated_at", "updated_by", "change_id"})
