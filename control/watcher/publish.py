"""The watcher's writes: the published record and its manifest entries.

A publish is one Lua script: it checks that the lease is still ours (a paused
watcher whose lease expired must not overwrite its successor), assigns
`seq = max(seq in Redis, seq in code.json) + 1`, replaces the `code` hash and
appends the "published" manifest entry (with that seq) to `nb:{B}:reloads`,
atomically. Then `<home>/code.json` is replaced (temp file, fsync, rename).
Keys come in KEYS[] (all `nb:{B}:`, one Cluster slot); the script is the
watcher's only one, so it lives here as a string, like state_store.desired_redis's.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

import redis

from control.watcher.lease import Lease
from state_store.code_record import CodeRecord, read_record, read_record_file
from state_store.files import lock_for, write_json_atomic
from state_store.keys import Keys
from state_store.manifest import STREAM_MAXLEN, ManifestEntry, publish

log = logging.getLogger(__name__)

REPLICA = "watcher"  # the `replica` of the watcher's manifest entries

PUBLISH_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local seq = math.max(tonumber(redis.call('HGET', KEYS[2], 'seq') or '0') or 0,
                     tonumber(ARGV[3])) + 1
local n = tonumber(ARGV[4])
local record = {'seq', tostring(seq)}
for i = 5, 4 + 2 * n do record[#record + 1] = ARGV[i] end
local entry = {'seq', tostring(seq)}
for i = 5 + 2 * n, #ARGV do entry[#entry + 1] = ARGV[i] end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(record))
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', unpack(entry))
return seq
"""


class Publisher:
    """Publishes records and manifest entries for one bot and home."""

    def __init__(self, client: redis.Redis, keys: Keys, code_file: Path, lease: Lease) -> None:
        self.client = client
        self.keys = keys
        self.code_file = code_file
        self.lease = lease
        self._publish = client.register_script(PUBLISH_LUA)

    def current(self) -> CodeRecord | None:
        """The record in force: Redis's, or code.json's when its seq is higher."""
        red = read_record(self.client, self.keys)
        mine = read_record_file(self.code_file)
        if mine is not None and (red is None or mine.seq > red.seq):
            return mine
        return red

    def publish(self, record: CodeRecord, entry: ManifestEntry) -> CodeRecord | None:
        """Publish `record` (its seq is assigned here); None when the lease is no longer ours."""
        floor = read_record_file(self.code_file)
        fields = record.to_fields()
        args: list[Any] = [self.lease.token, STREAM_MAXLEN, floor.seq if floor else 0, len(fields)]
        for key, value in fields.items():
            args += [key, value]
        for key, value in entry.to_stream().items():
            args += [key, value]
        keys = [self.keys.watcher, self.keys.code, self.keys.reloads]
        seq = int(cast(int, self._publish(keys=keys, args=args)))
        if seq < 0:
            log.warning("lost the watcher lease: generation %s not published", record.generation)
            return None
        published = record.model_copy(update={"seq": seq})
        with lock_for(self.code_file):
            write_json_atomic(self.code_file, published.to_json())
        return published

    def report(self, entries: list[ManifestEntry]) -> None:
        """Manifest entries that publish nothing (rejected, held)."""
        publish(self.client, self.keys, entries)
