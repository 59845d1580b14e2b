"""The Redis copy of the desired state: hash `nb:{B}:control`, written by compare-and-set.

One Lua script replaces the hash and appends the audit entries in the same
atomic step, so a change never lands without its audit entry. Two modes:

- `cas`: the hash's `version` field must still be exactly what the writer read
  (a lost update is impossible: the loser re-reads and re-applies its command);
  when it is not, but the hash already carries the writer's `change_id`, the
  script was resent by redis-py's retry after a lost reply and reports `applied`.
- `newer`: only replace a lower version (convergence copying control.json in).

The script is state_store/lua/set_control.lua; keys are passed in KEYS[],
never built inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import redis

from state_store.audit import STREAM_MAXLEN, AuditEntry
from state_store.desired import DesiredState
from state_store.keys import Keys
from state_store.scripts import script_source

Mode = Literal["cas", "newer"]


@dataclass(frozen=True)
class RedisRead:
    """The control hash as found: its state (None if absent or invalid) and raw version."""

    state: DesiredState | None
    raw_version: str  # the `version` field exactly as stored ('' when absent): the CAS token
    error: str = ""  # the hash exists but does not hold a valid state

    @property
    def version(self) -> int:
        return self.state.version if self.state is not None else -1


@dataclass(frozen=True)
class WriteOutcome:
    outcome: Literal["ok", "applied", "conflict"]
    found_version: str  # the raw version the script found


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def read_redis(client: redis.Redis, keys: Keys) -> RedisRead:
    """Read the control hash (raises redis errors when Redis is unreachable)."""
    raw = cast(dict[Any, Any], client.hgetall(keys.control))
    fields = {_text(k): _text(v) for k, v in raw.items()}
    version = fields.get("version", "")
    if not fields:
        return RedisRead(None, "")
    try:
        return RedisRead(DesiredState.from_redis(fields), version)
    except ValueError as exc:
        return RedisRead(None, version, f"redis control hash {keys.control} invalid: {exc}"[:300])


def write_redis(
    client: redis.Redis,
    keys: Keys,
    state: DesiredState,
    entries: Sequence[AuditEntry],
    mode: Mode,
    expect: str = "",
) -> WriteOutcome:
    """Replace the control hash with `state` and add `entries` to the audit stream, atomically."""
    fields = state.to_redis()
    argv: list[str] = [mode, expect, state.change_id, str(STREAM_MAXLEN), str(len(fields))]
    for name, value in fields.items():
        argv += [name, value]
    for entry in entries:
        stream = entry.to_stream()
        argv.append(str(len(stream)))
        for name, value in stream.items():
            argv += [name, value]
    script = client.register_script(script_source("set_control"))
    raw = cast(list[Any], script(keys=[keys.control, keys.audit], args=argv))
    outcome = _text(raw[0])
    if outcome not in ("ok", "applied", "conflict"):
        raise RuntimeError(f"unexpected reply from the control script: {raw!r}")
    return WriteOutcome(cast(Literal["ok", "applied", "conflict"], outcome), _text(raw[1]))
