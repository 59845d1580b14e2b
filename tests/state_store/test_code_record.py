"""The published record survives Redis fields and code.json unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.published import published_of
from state_store.code_record import CodeRecord, read_record_file

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
