"""The reload manifest: one entry per reload attempt and confirmation.

Two copies: Redis stream `nb:{B}:reloads` keeps the history (capped at about
STREAM_MAXLEN) and `status.json` keeps the newest STATUS_RELOADS entries, so an
operator can read them with Redis down (state_store.status).

Stream fields are flat and human-readable (`redis-cli XRANGE 'nb:{default}:reloads' - +`):

    ts          unix time of the attempt
    kind        live, promoted, rejected, deferred, rolled_back, mismatch (runners);
                published, held (the watcher)
    ok          1 or 0
    error       why it failed ("" when ok)
    generation  tree hash of the strategies folder
    modules     JSON [module, ...]
    files       JSON {relpath: sha256}
    git_sha     HEAD of the checkout ("" outside git); git_dirty 1 when it differs from HEAD
    replica     the runner that wrote it ("watcher" for the watcher)
    tick        the runner tick it happened at ("" when not at a tick)
    trigger     (published entries only) deploy, save, reload, rescan or start
    seq         (published entries only) the publish counter of the code record
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import redis
from pydantic import BaseModel, ConfigDict, Field

from state_store.keys import Keys

STREAM_MAXLEN = 5000
STATUS_RELOADS = 50
_OPTIONAL = ("trigger", "seq", "id")  # absent from an entry (stream and file) when None


class ManifestEntry(BaseModel):
    """One reload-manifest entry (a runner's or the watcher's)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ts: float = 0.0
    kind: str = ""
    ok: bool = False
    error: str = ""
    generation: str = ""
    modules: tuple[str, ...] = ()
    files: dict[str, str] = Field(default_factory=dict)
    git_sha: str = ""
    git_dirty: bool = False
    replica: str = ""
    tick: int | None = None
    trigger: str | None = None
    seq: int | None = None
    id: str | None = Field(default=None, description="Redis stream id (entries read from Redis)")

    def to_stream(self) -> dict[str, str]:
        """Flat stream fields (nested values as JSON, booleans as 1/0, no `id`)."""
        out = {}
        for key, value in self.model_dump(exclude={"id"}).items():
            if key in _OPTIONAL and value is None:
                continue
            if isinstance(value, dict | list | tuple):
                out[key] = json.dumps(_plain(value), sort_keys=True)
            elif isinstance(value, bool):
                out[key] = "1" if value else "0"
            else:
                out[key] = "" if value is None else str(value)
        return out

    @classmethod
    def from_stream(cls, fields: Mapping[str, str], stream_id: str | None = None) -> ManifestEntry:
        """ValueError (pydantic's ValidationError, json's JSONDecodeError) when malformed."""
        data: dict[str, Any] = dict(fields)
        data["modules"] = json.loads(fields.get("modules") or "[]")
        data["files"] = json.loads(fields.get("files") or "{}")
        data["ok"] = fields.get("ok") == "1"
        data["git_dirty"] = fields.get("git_dirty") == "1"
        data["ts"] = fields.get("ts") or 0
        for key in ("tick", "seq"):
            data[key] = fields.get(key) or None
        data["id"] = stream_id
        return cls.model_validate(data)

    def to_file(self) -> dict[str, Any]:
        """The JSON object of this entry in status.json."""
        data = self.model_dump(mode="json", exclude={"id"})
        return {k: v for k, v in data.items() if not (k in _OPTIONAL and v is None)}

    @classmethod
    def from_file(cls, data: Any) -> ManifestEntry | None:
        """An entry of status.json; None when it is not one (written by another version?)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls.model_validate(data)
        except ValueError:
            return None


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def publish(client: redis.Redis, keys: Keys, entries: list[ManifestEntry]) -> None:
    if not entries:
        return
    pipe = client.pipeline(transaction=False)
    for entry in entries:
        fields = cast(Any, entry.to_stream())
        pipe.xadd(keys.reloads, fields, maxlen=STREAM_MAXLEN, approximate=True)
    pipe.execute()


def recent(client: redis.Redis, keys: Keys, count: int = STATUS_RELOADS) -> list[ManifestEntry]:
    """The newest `count` entries, oldest first (each with its stream `id`)."""
    rows = cast(list[tuple[str, dict[str, str]]], client.xrevrange(keys.reloads, count=count))
    return _entries(reversed(rows))


def after(client: redis.Redis, keys: Keys, cursor: str, count: int) -> list[ManifestEntry]:
    """Up to `count` entries whose stream id is past `cursor`, oldest first."""
    rows = cast(
        list[tuple[str, dict[str, str]]], client.xrange(keys.reloads, min=f"({cursor}", count=count)
    )
    return _entries(rows)


def _entries(rows: Any) -> list[ManifestEntry]:
    out = []
    for stream_id, fields in rows:
        try:
            out.append(ManifestEntry.from_stream(fields, stream_id))
        except ValueError:  # not an entry this version can read: skip it, keep the rest
            continue
    return out
