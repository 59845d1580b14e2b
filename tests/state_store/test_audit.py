"""Audit entries survive the Redis stream and audit.jsonl unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from state_store.audit import AuditEntry, append_jsonl, read_jsonl, read_stream, tail_jsonl
from state_store.keys import Keys

KEYS = Keys("default")
ENTRY = AuditEntry(
    ts=1764000000.125,
    who="alice",
    command="config_set",
    old_version=3,
    new_version=4,
    plane="redis",
    change_id="c0ffee",
    args={"values": {"momentum": {"size": 7, "edge": 0.5, "on": True, "mode": "late"}}},
    host="box",
    bot="default",
)
BARE = AuditEntry(ts=1.0, command="pause")


@pytest.mark.parametrize("entry", [ENTRY, BARE])
def test_round_trips(entry: AuditEntry) -> None:
    assert AuditEntry.from_stream(entry.to_stream()) == entry
    assert AuditEntry.from_json(json.loads(json.dumps(entry.to_json()))) == entry


def test_stream_fields_are_flat_text() -> None:
    fields = ENTRY.to_stream()
    assert (fields["ts"], fields["old_version"], fields["new_version"]) == (
        "1764000000.125", "3", "4",
    )  # fmt: skip
    assert json.loads(fields["args"]) == ENTRY.args
    assert set(fields) == {"ts", "who", "command", "old_version", "new_version", "plane",
                           "change_id", "args", "host", "bot"}  # fmt: skip


def test_jsonl_round_trips_and_skips_broken_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    append_jsonl(path, ENTRY)
    with path.open("a") as out:
        out.write('{"ts": 2.0}\n')  # no command
        out.write("not json\n")
        out.write('{"ts": 3.0, "command": "resume", "args": ["x"]}\n')  # args not an object
    append_jsonl(path, BARE)
    assert read_jsonl(path) == [ENTRY, BARE]
    assert tail_jsonl(path) == [ENTRY, BARE]


def test_read_stream(real_redis: redis.Redis) -> None:
    for entry in (ENTRY, BARE):
        real_redis.xadd(KEYS.audit, cast(Any, entry.to_stream()))
    real_redis.xadd(KEYS.audit, {"ts": "x"})  # unreadable: skipped
    assert read_stream(real_redis, KEYS) == [ENTRY, BARE]
