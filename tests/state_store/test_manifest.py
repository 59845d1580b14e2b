"""Manifest entries survive the Redis stream and status.json unchanged; stream fields stay flat."""

from __future__ import annotations

from typing import cast

import pytest
import redis

from state_store.keys import Keys
from state_store.manifest import ManifestEntry, after, publish, recent

KEYS = Keys("default")
LIVE = ManifestEntry(
    ts=1764000000.125,
    kind="live",
    ok=True,
    generation="0123456789abcdef",
    modules=("_common", "momentum"),
    files={"momentum.py": "11" * 32, "_common.py": "22" * 32},
    git_sha="ab" * 20,
    git_dirty=True,
    replica="r1",
    tick=42,
)
REJECTED = ManifestEntry(
    ts=1764000001.5, kind="rejected", error="a.py:1: SyntaxError", generation="fe" * 8,
    replica="r2",
)  # fmt: skip
PUBLISHED = LIVE.model_copy(update={"kind": "published", "replica": "watcher", "tick": None,
                                    "trigger": "deploy", "seq": 7})  # fmt: skip


@pytest.mark.parametrize("entry", [LIVE, REJECTED, PUBLISHED])
def test_round_trips(entry: ManifestEntry) -> None:
    assert ManifestEntry.from_stream(entry.to_stream()) == entry
    assert ManifestEntry.from_file(entry.to_file()) == entry


def test_stream_fields_are_flat_and_readable() -> None:
    assert LIVE.to_stream() == {
        "ts": "1764000000.125",
        "kind": "live",
        "ok": "1",
        "error": "",
        "generation": "0123456789abcdef",
        "modules": '["_common", "momentum"]',
        "files": '{"_common.py": "' + "22" * 32 + '", "momentum.py": "' + "11" * 32 + '"}',
        "git_sha": "ab" * 20,
        "git_dirty": "1",
        "replica": "r1",
        "tick": "42",
    }
    fields = REJECTED.to_stream()
    assert (fields["ok"], fields["tick"], fields["modules"]) == ("0", "", "[]")
    assert "trigger" not in fields and "seq" not in fields  # only published entries carry them
    assert (PUBLISHED.to_stream()["trigger"], PUBLISHED.to_stream()["seq"]) == ("deploy", "7")


def test_a_status_json_entry_of_an_older_version_is_read() -> None:
    """The previous version wrote the same keys (no trigger/seq); unknown keys are ignored."""
    old = {**LIVE.to_file(), "modules": ["_common", "momentum"], "someday": 1}
    assert ManifestEntry.from_file(old) == LIVE
    assert ManifestEntry.from_file({"kind": "live", "ts": "soon"}) is None
    assert ManifestEntry.from_file(["live"]) is None


def test_publish_and_read_back(real_redis: redis.Redis) -> None:
    publish(real_redis, KEYS, [LIVE, REJECTED, PUBLISHED])
    raw = cast(list[tuple[str, dict[str, str]]], real_redis.xrange(KEYS.reloads))
    assert [fields for _, fields in raw] == [e.to_stream() for e in (LIVE, REJECTED, PUBLISHED)]
    got = recent(real_redis, KEYS, 10)
    assert [e.model_copy(update={"id": None}) for e in got] == [LIVE, REJECTED, PUBLISHED]
    assert [e.id for e in got] == [stream_id for stream_id, _ in raw]
    assert after(real_redis, KEYS, raw[0][0], 10) == got[1:]


def test_an_unreadable_stream_entry_is_skipped(real_redis: redis.Redis) -> None:
    publish(real_redis, KEYS, [LIVE])
    real_redis.xadd(KEYS.reloads, {"kind": "live", "modules": "{not json"})
    publish(real_redis, KEYS, [REJECTED])
    assert [e.kind for e in recent(real_redis, KEYS, 10)] == ["live", "rejected"]
