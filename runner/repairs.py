"""The audit trail of repairs made by background jobs (reconciliation, settlement sweeps).

Entries use the control plane's audit format (state_store.audit.AuditEntry) and
its two copies: the Redis stream `nb:{B}:audit` and `<home>/audit.jsonl`.
A repair is not a change of the desired state, so its `old_version` and
`new_version` are 0: the control plane's version high-water mark ignores it.

Each entry has a deterministic `change_id` (e.g. `fill:<fill id>`): the
stream append is a Lua script that adds an id once (a marker key with an
expiry), so a resent command or two jobs reporting the same repair make one
entry, and only the process that added it appends the line to audit.jsonl.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from state_store.audit import STREAM_MAXLEN, AuditEntry, append_jsonl, hostname
from state_store.files import lock_for
from state_store.scripts import script_source
from state_store.settings import Settings
from state_store.store import Store

log = logging.getLogger(__name__)

ONCE_TTL_S = 7 * 86400  # how long an entry id is remembered


class RepairLog:
    """Writes one audit entry per repair, to Redis and to the home's audit.jsonl."""

    def __init__(self, store: Store, settings: Settings, who: str = "reconcile") -> None:
        self.store = store
        self.settings = settings
        self.who = who
        self.written: list[AuditEntry] = []

    def record(self, command: str, change_id: str, args: Mapping[str, Any]) -> bool:
        """Add the entry unless `change_id` was recorded before; True when added now."""
        entry = AuditEntry(
            ts=time.time(), who=self.who, command=command, old_version=0, new_version=0,
            plane="redis", change_id=change_id, args=dict(args), host=hostname(),
            bot=self.store.bot,
        )  # fmt: skip
        keys = self.store.keys
        flat = [x for pair in entry.to_stream().items() for x in pair]
        script = self.store.client.register_script(script_source("audit_append"))
        raw = script(
            keys=[keys.audit, keys.audit_once(change_id)],
            args=[ONCE_TTL_S, STREAM_MAXLEN, *flat],
        )
        if (raw[0].decode() if isinstance(raw[0], bytes) else str(raw[0])) == "duplicate":
            return False
        with lock_for(self.settings.control_file):
            append_jsonl(self.settings.audit_file, entry)
        self.written.append(entry)
        log.warning("repair %s: %s", command, json.dumps(entry.args, sort_keys=True))
        return True
