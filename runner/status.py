"""Runner heartbeat and status: a Redis hash per replica and a section of status.json.

status.json is shared by every runner of the home: each writes only its own
section under the file lock, and replaces the file atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import redis

from runner.manifest import merge_recent
from state_store.files import update_json_locked
from state_store.keys import Keys


def write_status_file(
    path: Path, replica: str, section: dict[str, Any], new_reloads: list[dict[str, Any]]
) -> None:
    """Replace this replica's section (and append reload entries), keeping the others."""

    def change(current: Any) -> dict[str, Any]:
        data = current if isinstance(current, dict) else {}
        runners = data["runners"] if isinstance(data.get("runners"), dict) else {}
        runners = {**runners, replica: section}
        reloads = data["reloads"] if isinstance(data.get("reloads"), list) else []
        return {**data, "runners": runners, "reloads": merge_recent(reloads, new_reloads)}

    update_json_locked(path, change)


def heartbeat(
    client: redis.Redis, keys: Keys, replica: str, section: dict[str, Any], ttl_ms: int
) -> None:
    """Runner hash (flat fields; nested values as JSON) that expires when the runner stops."""
    fields = {
        k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else str(v)
        for k, v in section.items()
    }
    pipe = client.pipeline(transaction=False)
    pipe.delete(keys.runner(replica))
    pipe.hset(keys.runner(replica), mapping=cast(Any, fields))
    pipe.pexpire(keys.runner(replica), ttl_ms)
    pipe.sadd(keys.runners, replica)
    pipe.execute()
