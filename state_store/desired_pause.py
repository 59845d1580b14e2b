"""Entries paused by the runtime itself (a risk limit), the way `neverblink ctl pause` does.

The same planes as a control command with Redis up: under the control.json lock, a
compare-and-set of the Redis hash with its audit entry (one Lua step), control.json
moved forward, and the entry appended to audit.jsonl. The entry's `command` and
`args` say why (e.g. `risk_pause`, `{"limit": "bot.max_daily_loss", ...}`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import redis

from state_store.audit import AuditEntry, append_jsonl, high_water, hostname
from state_store.desired import DesiredState
from state_store.desired_file import read_file, write_file
from state_store.desired_redis import read_redis, write_redis
from state_store.files import lock_for
from state_store.keys import Keys
from state_store.settings import Settings

MAX_ATTEMPTS = 20


def pause_entries(
    client: redis.Redis, settings: Settings, command: str, args: Mapping[str, Any], who: str
) -> DesiredState:
    """Set `paused` (a new version, audited); raises filelock.Timeout when the lock is busy."""
    keys = Keys(settings.bot)
    with lock_for(settings.control_file):
        for _ in range(MAX_ATTEMPTS):
            red = read_redis(client, keys)
            base = red.state or read_file(settings.control_file).state or DesiredState()
            new, entry = _paused(base, settings, command, args, who)
            written = write_redis(client, keys, new, [entry], "cas", red.raw_version)
            if written.outcome != "conflict":
                break
        else:
            raise RuntimeError(f"{command}: the control hash kept changing")
        if read_file(settings.control_file).version < new.version:
            write_file(settings.control_file, new)
        append_jsonl(settings.audit_file, entry)
    return new


def _paused(
    base: DesiredState, settings: Settings, command: str, args: Mapping[str, Any], who: str
) -> tuple[DesiredState, AuditEntry]:
    version = max(base.version, high_water(settings.audit_file)) + 1
    now = time.time()
    change_id = uuid.uuid4().hex
    fields = {"paused": True, "version": version, "updated_at": now, "updated_by": who}
    new = base.model_copy(update={**fields, "change_id": change_id})
    entry = AuditEntry(
        ts=now, who=who, command=command, old_version=base.version, new_version=version,
        plane="redis", change_id=change_id, args=dict(args), host=hostname(), bot=settings.bot,
    )  # fmt: skip
    return new, entry
