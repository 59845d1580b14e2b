"""Runner status sections survive the runner hash and status.json; status.json of an older
version (a runner mid-upgrade) is read and rewritten without losing what it holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import redis

from state_store.keys import Keys
from state_store.manifest import STATUS_RELOADS, ManifestEntry
from state_store.status import (
    RunnerCode,
    RunnerStatus,
    StatusFile,
    TickGapsRecord,
    TickSeconds,
    heartbeat,
    read_runner,
    read_status_file,
    runner_of,
    write_status_file,
)

KEYS = Keys("default")
SECTION = RunnerStatus(
    replica="r1",
    pid=4242,
    tick=17,
    last_tick_at=1764000000.25,
    heartbeat=1764000000.5,
    paused=True,
    degraded=False,
    control_error="control.json: paused: Input should be a valid boolean",
    code=RunnerCode(generation="abc123", files={"a.py": "11" * 32}, git_sha="0123", git_dirty=True,
                    on_probation=True),
    strategies=["a"],
    markets=["btc-updown-5m-1764000000"],
    strategy_errors={"a": 2},
    overruns={"a": 1},
    last_errors={"a": "decide raised ValueError('x')"},
    orders_created=5,
    fills_applied=3,
    tick_seconds=TickSeconds(buckets=[(0.005, 1), (0.01, 2)], count=2, sum=0.012, last=0.007),
    tick_gaps=TickGapsRecord(missed=3, most_missed=2, longest_gap_s=1.7, longest_gap_tick=4),
    loop_errors=1,
    last_loop_error="tick 3: RuntimeError('boom')",
    venue_errors=4,
    last_venue_error="425 engine restarting",
)  # fmt: skip
ENTRY = ManifestEntry(ts=1764000000.0, kind="live", ok=True, generation="abc123", replica="r1",
                      tick=3)  # fmt: skip

# status.json as the previous version wrote it (runner/status.py + tick.status_section)
OLD_SECTION: dict[str, Any] = {
    "replica": "r0", "pid": 99, "tick": 8, "last_tick_at": 1.5, "heartbeat": 2.5, "paused": False,
    "degraded": True, "control_error": "",
    "code": {"generation": "g0", "files": {}, "git_sha": "", "git_dirty": False,
             "on_probation": False},
    "strategies": [], "markets": [], "strategy_errors": {}, "overruns": {}, "last_errors": {},
    "orders_created": 0, "fills_applied": 0,
    "tick_seconds": {"buckets": [[0.005, 0]], "count": 0, "sum": 0.0, "last": 0.0},
    "loop_errors": 0, "last_loop_error": "", "venue_errors": 0, "last_venue_error": "",
}  # fmt: skip
OLD_ENTRY: dict[str, Any] = {
    "ts": 1.0, "kind": "live", "ok": True, "error": "", "generation": "g0", "modules": ["a"],
    "files": {"a.py": "ff"}, "git_sha": "", "git_dirty": False, "replica": "r0", "tick": None,
}  # fmt: skip


def test_runner_hash_round_trips() -> None:
    assert RunnerStatus.from_redis(SECTION.to_redis()) == SECTION
    stopped = SECTION.model_copy(update={"stopped": True})
    assert RunnerStatus.from_redis(stopped.to_redis()) == stopped


def test_runner_hash_fields_are_flat_and_readable() -> None:
    fields = SECTION.to_redis()
    assert (fields["tick"], fields["paused"], fields["degraded"]) == ("17", "True", "False")
    assert fields["control_error"] == SECTION.control_error
    assert json.loads(fields["code"])["generation"] == "abc123"
    assert json.loads(fields["markets"]) == ["btc-updown-5m-1764000000"]
    assert json.loads(fields["tick_seconds"])["buckets"] == [[0.005, 1], [0.01, 2]]
    assert json.loads(fields["tick_gaps"])["most_missed"] == 2
    assert "stopped" not in fields  # a live runner's hash has the fields it always had
    added = {  # since the previous version: the halt, the venue's health, its clock, data guard
        "operational_error", "operational_error_since", "venue_unresponsive_since",
        "venue_error", "venue_clock",
        "data_guard",  # the data guard (runner.guard): epoch, sequence, rebuilds
        "books",  # where books come from (runner.books): stream, rest, stale
        "venue_restriction", "venue_restriction_reason", "venue_restriction_since",
        "tick_gaps",  # missed ticks (runner.tick_timing.TickGaps)
        "fills_reversed", "trade_polls", "user_stream",  # how fills are learnt (user channel)
        "risk_refused", "risk_day_pnl", "risk_breached",  # risk limits (runner.risk)
        "window_source", "gamma_requests", "unlisted_windows",  # window discovery
    }  # fmt: skip
    assert set(fields) == set(OLD_SECTION) | added


def test_a_hash_of_the_previous_version_is_read() -> None:
    old = {
        k: json.dumps(v) if isinstance(v, dict | list) else str(v) for k, v in OLD_SECTION.items()
    }
    section = runner_of(old)
    assert section is not None
    assert (section.replica, section.tick, section.degraded) == ("r0", 8, True)
    assert runner_of({}) is None
    assert runner_of({"tick": "many"}) is None


def test_status_file_round_trips() -> None:
    status = StatusFile(runners={"r1": SECTION}, reloads=[ENTRY])
    assert StatusFile.from_file(json.loads(json.dumps(status.to_file()))) == status
    assert "stopped" not in status.to_file()["runners"]["r1"]


def test_status_json_of_the_previous_version_is_read(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    path.write_text(json.dumps({"runners": {"r0": OLD_SECTION}, "reloads": [OLD_ENTRY]}))
    status = read_status_file(path)
    assert status.runners["r0"].code.generation == "g0"
    assert status.reloads == [ManifestEntry.model_validate(OLD_ENTRY)]


def test_what_cannot_be_read_is_skipped_and_kept_as_written(tmp_path: Path) -> None:
    """A writer replaces its own section only: another version's data survives verbatim."""
    path = tmp_path / "status.json"
    future = {**OLD_SECTION, "venue_down_since": 12.0}  # a field of a newer version
    path.write_text(json.dumps({
        "runners": {"r0": future, "bad": {"tick": "x"}, "worse": [1]},
        "reloads": [OLD_ENTRY, "junk", {"ts": "never"}],
        "written_by": "a newer neverblink",
    }))  # fmt: skip
    write_status_file(path, "r1", SECTION, [ENTRY])
    data = json.loads(path.read_text())
    assert data["runners"]["r0"] == future and data["runners"]["worse"] == [1]
    assert data["written_by"] == "a newer neverblink"
    assert data["reloads"][:3] == [OLD_ENTRY, "junk", {"ts": "never"}]
    status = read_status_file(path)
    assert sorted(status.runners) == ["r0", "r1"] and status.runners["r1"] == SECTION
    assert [e.replica for e in status.reloads] == ["r0", "r1"]


def test_status_json_keeps_the_newest_entries(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    entries = [ENTRY.model_copy(update={"tick": t}) for t in range(STATUS_RELOADS + 5)]
    write_status_file(path, "r1", SECTION, entries[:10])
    write_status_file(path, "r1", SECTION, entries[10:])
    assert read_status_file(path).reloads == entries[-STATUS_RELOADS:]


def test_an_absent_or_broken_status_json_reads_empty(tmp_path: Path) -> None:
    assert read_status_file(tmp_path / "absent.json") == StatusFile()
    (tmp_path / "broken.json").write_text("{")
    assert read_status_file(tmp_path / "broken.json") == StatusFile()
    (tmp_path / "list.json").write_text("[]")
    assert read_status_file(tmp_path / "list.json") == StatusFile()


def test_heartbeat_and_read_back(real_redis: redis.Redis) -> None:
    heartbeat(real_redis, KEYS, "r1", SECTION, 60_000)
    assert real_redis.hgetall(KEYS.runner("r1")) == SECTION.to_redis()
    assert read_runner(real_redis, KEYS, "r1") == SECTION
    assert real_redis.smembers(KEYS.runners) == {"r1"}
    assert 0 < int(real_redis.pttl(KEYS.runner("r1"))) <= 60_000
    assert read_runner(real_redis, KEYS, "r2") is None
