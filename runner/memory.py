"""Strategy memory in Redis (`nb:{B}:mem:<strategy>`), versioned by MEMORY_VERSION.

The hash holds string values plus `_version`. When a strategy's MEMORY_VERSION
differs from the stored one, its `migrate(memory, from_version)` turns the old
values into new ones (or, without migrate, the memory starts empty).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

import redis

from state_store.keys import Keys

log = logging.getLogger(__name__)

VERSION_FIELD = "_version"
Migrate = Callable[[Mapping[str, str], int], Mapping[str, str]]


def read_memories(client: redis.Redis, keys: Keys, names: list[str]) -> dict[str, dict[str, str]]:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(keys.memory(name))
    rows = cast(list[dict[str, str]], pipe.execute())
    return dict(zip(names, rows, strict=True))


def current_memory(
    client: redis.Redis,
    keys: Keys,
    name: str,
    stored: dict[str, str],
    version: int,
    migrate: Migrate | None,
) -> tuple[dict[str, str], bool]:
    """The strategy's memory at its own schema version, and whether this code may write it.

    An older stored schema is migrated once (forward only). A NEWER stored schema
    (a rollback, or a replica not yet on the new code) is read as it is and not
    written, so the newer code's memory survives.
    """
    from_version = int(stored.get(VERSION_FIELD, "0") or 0)
    values = {k: v for k, v in stored.items() if k != VERSION_FIELD}
    if from_version == version:
        return values, True
    if from_version > version:
        return values, False
    migrated = {str(k): str(v) for k, v in migrate(values, from_version).items()} if migrate else {}
    pipe = client.pipeline(transaction=True)
    pipe.delete(keys.memory(name))
    pipe.hset(keys.memory(name), mapping=cast(Any, {**migrated, VERSION_FIELD: str(version)}))
    pipe.execute()
    log.info("memory of %s migrated from v%d to v%d", name, from_version, version)
    return migrated, True


def remember(client: redis.Redis, keys: Keys, name: str, values: Mapping[str, str]) -> None:
    if values:
        client.hset(keys.memory(name), mapping=cast(Any, dict(values)))
