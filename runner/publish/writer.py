"""The publisher's writes: the published record, rejections and manifest entries.

A publish is one script (state_store/lua/publish_code.lua): it checks that the
lease is still ours (a paused publisher whose lease expired must not overwrite
its successor), assigns `seq = max(seq in Redis, seq in code.json) + 1`,
replaces the `code` hash and appends the "published" manifest entry (with that
seq) to `nb:{B}:reloads`, atomically. Then `<home>/code.json` is replaced
(temp file, fsync, rename). A rejection (reject_code.lua) marks the rejected
tree in the same hash, so runners whose folder holds it report the rejection.
Keys come in KEYS[] (all `nb:{B}:`, one Cluster slot).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

import redis

from runner.publish.lease import PublisherLease
from state_store.code_record import CodeRecord, read_record, read_record_file
from state_store.files import lock_for, write_json_atomic
from state_store.keys import Keys
from state_store.manifest import STREAM_MAXLEN, ManifestEntry, publish
from state_store.scripts import script_source

log = logging.getLogger(__name__)

REPLICA = "watcher"  # the `replica` of the publisher's manifest entries


class CodeWriter:
    """Publishes records and manifest entries for one bot and home."""

    def __init__(
        self, client: redis.Redis, keys: Keys, code_file: Path, lease: PublisherLease
    ) -> None:
        self.client = client
        self.keys = keys
        self.code_file = code_file
        self.lease = lease
        self._publish = client.register_script(script_source("publish_code"))
        self._reject = client.register_script(script_source("reject_code"))

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

    def reject(self, entry: ManifestEntry) -> bool:
        """Mark the tree of this "rejected" entry in the code hash and append the entry.

        False when the lease is no longer ours (nothing written)."""
        args: list[Any] = [self.lease.token, STREAM_MAXLEN, entry.generation, entry.error]
        for key, value in entry.to_stream().items():
            args += [key, value]
        keys = [self.keys.watcher, self.keys.code, self.keys.reloads]
        return int(cast(int, self._reject(keys=keys, args=args))) > 0

    def report(self, entries: list[ManifestEntry]) -> None:
        """Manifest entries that publish nothing (held)."""
        publish(self.client, self.keys, entries)
