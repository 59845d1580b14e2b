"""Several processes at once: control commands on each plane, and status.json sections."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from state_store.audit import read_jsonl, read_stream
from state_store.converge import converge
from state_store.desired import read_control_file
from state_store.desired_redis import read_redis
from state_store.files import read_json
from state_store.keys import Keys
from state_store.settings import Settings
from tests.control.workers import issue_commands, write_sections

PER_WRITER = 15
CTX = multiprocessing.get_context("spawn")


def run_writers(homes: list[Settings]) -> dict[str, list[tuple[int, str]]]:
    start = CTX.Event()
    out = CTX.Queue()
    procs = [
        CTX.Process(target=issue_commands, args=(home, f"w{i}", PER_WRITER, start, out))
        for i, home in enumerate(homes)
    ]
    for proc in procs:
        proc.start()
    start.set()
    results = dict(out.get(timeout=60) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    return results


def check_versions(results: dict[str, list[tuple[int, str]]], plane: str) -> None:
    total = PER_WRITER * len(results)
    for name, rows in results.items():
        versions = [v for v, _ in rows]
        assert versions == sorted(set(versions)), f"{name}: versions not strictly increasing"
        assert {p for _, p in rows} == {plane}
    every = sorted(v for rows in results.values() for v, _ in rows)
    assert every == list(range(1, total + 1)), "lost or duplicated version"


def check_audit(entries: list[Any], total: int) -> None:
    assert sorted(e.new_version for e in entries) == list(range(1, total + 1))
    assert all(e.old_version == e.new_version - 1 for e in entries)  # each built on the last
    assert {e.who for e in entries} == {"w0", "w1"}


def test_two_writers_on_the_redis_plane(settings: Settings, real_redis: redis.Redis) -> None:
    results = run_writers([settings, settings])
    check_versions(results, "redis")
    total = 2 * PER_WRITER
    state = read_redis(real_redis, Keys(settings.bot)).state
    assert state is not None and state.version == total
    assert state.flatten_seq == total  # no lost update
    assert read_control_file(settings.control_file) == state
    check_audit(read_stream(real_redis, Keys(settings.bot), 1000), total)
    check_audit(read_jsonl(settings.audit_file), total)


def test_two_writers_on_the_file_plane(down_settings: Settings) -> None:
    results = run_writers([down_settings, down_settings])
    check_versions(results, "file")
    total = 2 * PER_WRITER
    state = read_control_file(down_settings.control_file)
    assert state is not None and state.version == total and state.flatten_seq == total
    check_audit(read_jsonl(down_settings.audit_file), total)


def test_two_hosts_sharing_redis_race_on_the_version(
    make_settings: Callable[..., Settings], redis_url: str, real_redis: redis.Redis
) -> None:
    """Two homes (no shared file lock): only the compare-and-set keeps updates apart."""
    homes = [make_settings(redis_url, home="host-a"), make_settings(redis_url, home="host-b")]
    results = run_writers(homes)
    check_versions(results, "redis")
    total = 2 * PER_WRITER
    state = read_redis(real_redis, Keys(homes[0].bot)).state
    assert state is not None and state.flatten_seq == total
    check_audit(read_stream(real_redis, Keys(homes[0].bot), 1000), total)
    mine = [len(read_jsonl(h.audit_file)) for h in homes]
    assert mine == [PER_WRITER, PER_WRITER]
    for home in homes:  # each host's control.json converges to the winner
        assert converge(real_redis, home) == state
        assert read_control_file(home.control_file) == state


def test_status_json_keeps_every_runners_section(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    replicas = [f"r{i}" for i in range(6)]
    writes = 40
    start = CTX.Event()
    procs = [CTX.Process(target=write_sections, args=(path, r, writes, start)) for r in replicas]
    for proc in procs:
        proc.start()
    start.set()
    while any(p.is_alive() for p in procs):  # a reader never sees a torn file
        if path.exists():  # once created, os.replace keeps it in place
            assert isinstance(read_json(path), dict)
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    data = read_json(path)
    assert sorted(data["runners"]) == replicas
    assert all(data["runners"][r]["tick"] == writes for r in replicas)
    reloads = data["reloads"]
    per_replica = {r: [e["tick"] for e in reloads if e["replica"] == r] for r in replicas}
    assert all(ticks == [10, 20, 30, 40] for ticks in per_replica.values())
