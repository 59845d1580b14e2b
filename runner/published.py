"""Step 2 of a tick: tell the reloader what the publisher published (and rejected).

The code hash `nb:{B}:code` holds the generation the publisher (a `neverblink
watch`, or one runner's in-process publisher: whoever holds the lease
`nb:{B}:watcher`) validated last, and the tree it rejected last. Every tick
reads its head in one round trip (HMGET); the whole record is read only when
its (generation, seq) changed. The reloader adopts the published generation
when the runner's own folder hashes the same.
"""

from __future__ import annotations

import logging
import time
from typing import cast

import redis

from runner.reload import Published, Rejected, ReloadEvent
from runner.runtime import Runtime
from state_store.code_record import CodeRecord, read_record
from state_store.keys import Keys

log = logging.getLogger(__name__)

_HEAD = ["generation", "seq", "rejected", "rejected_error"]
_INITIAL_POLL = 0.02  # seconds between looks while the first generation is awaited


def published_target(
    client: redis.Redis, keys: Keys, known: Published | None
) -> tuple[Published | None, Rejected | None]:
    """The published generation (None: nothing published) and the last rejected tree.

    `known`: what the reloader holds already; returned as is when unchanged.
    """
    head = cast(list[str | None], client.hmget(keys.code, _HEAD))
    generation, seq, rejected_gen, error = head
    rejected = Rejected(rejected_gen, error or "") if rejected_gen else None
    if not generation:
        return None, rejected
    if known is not None and (known.generation, str(known.seq)) == (generation, seq):
        return known, rejected
    record = read_record(client, keys)
    return (published_of(record) if record is not None else None), rejected


def sync_published(rt: Runtime) -> None:
    """Point the runner's reloader at the published generation. Redis errors propagate,
    as in the rest of the tick."""
    reloader = rt.reloader
    before = reloader.target
    target, rejected = published_target(rt.client, rt.store.keys, before)
    if target is not None and (before is None or before.generation != target.generation):
        log.info("published generation %s (seq %d)", target.generation, target.seq)
    reloader.adopt(target, rejected)


def adopt_initial(rt: Runtime, timeout: float) -> list[ReloadEvent]:
    """Before the first tick: wait (at most `timeout` s) until the published generation
    goes live here, or something is reported (a rejection, a mismatch). Redis errors
    propagate."""
    deadline = time.monotonic() + timeout
    events: list[ReloadEvent] = []
    while True:
        sync_published(rt)
        events += rt.reloader.at_tick_boundary(None)
        if rt.reloader.current is not None or events or time.monotonic() >= deadline:
            return events
        time.sleep(_INITIAL_POLL)


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
