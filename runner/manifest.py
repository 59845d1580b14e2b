"""The reload manifest: every attempt and every confirmation, in Redis and status.json.

Redis stream `nb:{B}:reloads` keeps the history (capped); `status.json` keeps
the most recent entries so an operator can read them with Redis down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import redis

from state_store.keys import Keys

STREAM_MAXLEN = 5000
STATUS_RELOADS = 50


def manifest_entry(event: Any, replica: str) -> dict[str, Any]:
    """One manifest entry from a reloader event (see runner.reload.ReloadEvent)."""
    return {
        "ts": round(float(event.ts), 3),
        "kind": event.kind,
        "ok": bool(event.ok),
        "error": event.error,
        "generation": event.generation,
        "modules": list(event.modules),
        "files": dict(event.files),
        "git_sha": event.git_sha,
        "git_dirty": bool(event.git_dirty),
        "replica": replica,
        "tick": event.tick,
    }


def to_stream_fields(entry: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in entry.items():
        if isinstance(value, dict | list):
            out[key] = json.dumps(value, sort_keys=True)
        elif isinstance(value, bool):
            out[key] = "1" if value else "0"
        else:
            out[key] = "" if value is None else str(value)
    return out


def from_stream_fields(fields: Mapping[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = dict(fields)
    for key in ("modules", "files"):
        entry[key] = json.loads(fields.get(key) or ("[]" if key == "modules" else "{}"))
    entry["ok"] = fields.get("ok") == "1"
    entry["git_dirty"] = fields.get("git_dirty") == "1"
    entry["ts"] = float(fields.get("ts") or 0)
    entry["tick"] = int(fields["tick"]) if fields.get("tick") else None
    return entry


def publish(client: redis.Redis, keys: Keys, entries: list[dict[str, Any]]) -> None:
    if not entries:
        return
    pipe = client.pipeline(transaction=False)
    for entry in entries:
        fields = cast(Any, to_stream_fields(entry))
        pipe.xadd(keys.reloads, fields, maxlen=STREAM_MAXLEN, approximate=True)
    pipe.execute()


def recent(client: redis.Redis, keys: Keys, count: int = STATUS_RELOADS) -> list[dict[str, Any]]:
    """Newest last."""
    rows = cast(list[tuple[str, dict[str, str]]], client.xrevrange(keys.reloads, count=count))
    return [from_stream_fields(fields) for _, fields in reversed(rows)]


def merge_recent(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*existing, *new][-STATUS_RELOADS:]
