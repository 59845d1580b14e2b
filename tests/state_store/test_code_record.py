"""The published record survives Redis fields and code.json unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from runner.published import published_of
from state_store.code_record import CodeRecord, read_record, read_record_file
from state_store.keys import Keys

RECORD = CodeRecord(
    generation="0123456789abcdef",
    seq=7,
    git_sha="ab" * 20,
    git_dirty=True,
    files={"a.py": "11" * 32, "_common.py": "22" * 32},
    modules=("_common", "a"),
    strategies=("a",),
    validated_at=1700000000.123,
    marked_at=1699999999.5,
    trigger="deploy",
    watcher="host:42",
)


def test_round_trips() -> None:
    fields = {**RECORD.to_fields(), "seq": "7"}
    assert CodeRecord.from_fields(fields) == RECORD
    assert CodeRecord.from_json(json.loads(json.dumps(RECORD.to_json()))) == RECORD
    assert published_of(RECORD).files == RECORD.files
    assert (published_of(RECORD).seq, published_of(RECORD).strategies) == (7, ("a",))


@pytest.mark.parametrize("text", ["", "[]", '{"generation": "x"}', '{"seq": "x"}'])
def test_a_broken_code_json_is_no_record(tmp_path: Path, text: str) -> None:
    path = tmp_path / "code.json"
    path.write_text(text)
    assert read_record_file(path) is None
    assert read_record_file(tmp_path / "absent.json") is None


def test_hash_fields_are_flat_and_read_back(real_redis: redis.Redis) -> None:
    keys = Keys("default")
    real_redis.hset(keys.code, mapping=cast(Any, {**RECORD.to_fields(), "seq": "7"}))
    fields = real_redis.hgetall(keys.code)
    assert fields["git_dirty"] == "1" and fields["validated_at"] == "1700000000.123"
    assert json.loads(fields["modules"]) == ["_common", "a"]
    names = "generation seq git_sha git_dirty files modules strategies validated_at marked_at"
    assert set(fields) == {*names.split(), "trigger", "watcher"}
    assert read_record(real_redis, keys) == RECORD
    real_redis.hset(keys.code, "files", "not json")
    assert read_record(real_redis, keys) is None


def test_code_json_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "code.json"
    path.write_text(json.dumps(RECORD.to_json()))
    assert read_record_file(path) == RECORD
    assert json.loads(path.read_text())["files"] == dict(RECORD.files)
