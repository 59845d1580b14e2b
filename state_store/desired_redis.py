"""The Redis copy of the desired state: hash `nb:{B}:control`, written by compare-and-set.

One Lua script replaces the hash and appends the audit entries in the same
atomic step, so a change never lands without its audit entry. Two modes:

- `cas`: the hash's `version` field must still be exactly what the writer read
  (a lost update is impossible: the loser re-reads and re-applies its command);
  when it is not, but the hash already carries the writer's `change_id`, the
  script was resent by redis-py's retry after a lost reply and reports `applied`.
- `newer`: only replace a lower version (convergence copying control.json in).

The script lives here as a string (not in state_store/lua) because it is the
control plane's only script; keys are passed in KEYS[], never built inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import redis

from state_store.audit import STREAM_MAXLEN, AuditEntry
from state_store.desired import DesiredState
from state_store.keys import Keys

Mode = Literal["cas", "newer"]

SET_CONTROL_LUA = """
local raw = redis.call('HGET', KEYS[1], 'version')
if raw == false then raw = '' end
local nstate = tonumber(ARGV[5])
local state = {}
local newversion = -1
for i = 0, nstate - 1 do
  local f, v = ARGV[6 + 2 * i], ARGV[7 + 2 * i]
  state[#state + 1] = f
  state[#state + 1] = v
  if f == 'version' then newversion = tonumber(v) end
end
if ARGV[1] == 'cas' then
  if raw ~= ARGV[2] then
    if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'change_id') == ARGV[3] then
      return {'applied', raw}
    end
    return {'conflict', raw}
  end
elseif (tonumber(raw) or -1) >= newversion then
  return {'conflict', raw}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(state))
local i = 6 + 2 * nstate
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  local entry = {}
  for j = 1, 2 * k do entry[j] = ARGV[i + j] end
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', unpack(entry))
  i = i + 2 * k + 1
end
return {'ok', raw}
"""


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
    script = client.register_script(SET_CONTROL_LUA)
    raw = cast(list[Any], script(keys=[keys.control, keys.audit], args=argv))
    outcome = _text(raw[0])
    if outcome not in ("ok", "applied", "conflict"):
        raise RuntimeError(f"unexpected reply from the control script: {raw!r}")
    return WriteOutcome(cast(Literal["ok", "applied", "conflict"], outcome), _text(raw[1]))
