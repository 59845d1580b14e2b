"""Step 2 of a tick, with a watcher: follow the published generation instead of validating.

While the watcher lease `nb:{B}:watcher` exists and `nb:{B}:code` holds a
record, the runner's reloader follows it (`Reloader.follow`): it adopts that
generation only when its own folder hashes the same, loads it in-process
without a second validation, and swaps at a tick boundary with the usual
probation; a different folder is reported as a "mismatch". Without a watcher
(no lease: never started, stopped, or dead for one lease ttl) the reloader
validates the folder itself, as it always did.

Costs one pipelined round trip per tick (EXISTS + HMGET); the whole record is
read only when its (generation, seq) changed.
"""

from __future__ import annotations

import logging

import redis

from runner.reload import Published
from runner.runtime import Runtime
from state_store.code_record import CodeRecord, read_record
from state_store.keys import Keys

log = logging.getLogger(__name__)


def published_target(
    client: redis.Redis, keys: Keys, following: Published | None
) -> Published | None:
    """The generation to follow now (None: no active watcher or nothing published).

    `following`: what the reloader follows already; returned as is when unchanged.
    """
    pipe = client.pipeline(transaction=False)
    pipe.exists(keys.watcher)
    pipe.hmget(keys.code, ["generation", "seq"])
    active, head = pipe.execute()
    generation, seq = head
    if not active or not generation:
        return None
    if following is not None and (following.generation, str(following.seq)) == (generation, seq):
        return following
    record = read_record(client, keys)
    return published_of(record) if record is not None else None


def sync_published(rt: Runtime) -> None:
    """Point the runner's reloader at the watcher's published generation, or at its folder.

    Redis errors propagate, as in the rest of the tick.
    """
    reloader = rt.reloader
    before = reloader.following
    target = published_target(rt.client, rt.store.keys, before)
    if target is before:
        return
    if target is None:
        log.info("no active watcher: validating the strategies folder ourselves")
    elif before is None or before.generation != target.generation:
        log.info("following published generation %s (seq %d)", target.generation, target.seq)
    reloader.follow(target)


def published_of(record: CodeRecord) -> Published:
    """What a runner needs from a published record to adopt it."""
    return Published(
        generation=record.generation,
        seq=record.seq,
        files=record.files,
        git_sha=record.git_sha,
        git_dirty=record.git_dirty,
        strategies=record.strategies,
    )
