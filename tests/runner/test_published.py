"""Runners adopt the published generation (a watch's, or one runner's in-process
publisher's), never validate twice, and report what the publisher rejected."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import redis

from runner.host.client import Prepared
from runner.publish.publisher import Publisher
from runner.published import published_target, sync_published
from runner.reload import Rejected, Tree, read_tree
from runner.runtime import Runtime
from runner.tick import run_tick
from state_store.keys import Keys
from tests.runner.conftest import RuntimeFactory
from tests.runner.publish.helpers import make_settings, wait_for, watcher_options

KEYS = Keys("default")
CHANGED = """
def decide(view):
    return []
"""


@pytest.fixture
def watcher(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis, strategies_dir: Path
) -> Iterator[Publisher]:
    settings = make_settings(tmp_path / "home", redis_url, strategies_dir)
    watcher = Publisher(settings, real_redis, watcher_options())
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    wait_for(lambda: real_redis.hget(KEYS.code, "generation"), "a first publish")
    yield watcher
    watcher.stop()
    thread.join(30)


def test_nothing_published_means_no_target(real_redis: redis.Redis) -> None:
    assert published_target(real_redis, KEYS, None) == (None, None)
    real_redis.hset(KEYS.code, mapping={"rejected": "bad1", "rejected_error": "a.py:1: boom"})
    assert published_target(real_redis, KEYS, None) == (None, Rejected("bad1", "a.py:1: boom"))


def test_an_unchanged_record_is_not_read_again(
    real_redis: redis.Redis, watcher: Publisher, strategies_dir: Path
) -> None:
    target, rejected = published_target(real_redis, KEYS, None)
    assert target is not None and rejected is None
    assert target.generation == read_tree(strategies_dir).generation
    assert dict(target.files) == dict(read_tree(strategies_dir).hashes)
    assert published_target(real_redis, KEYS, target)[0] is target


def test_two_runtimes_adopt_each_publish_without_validating(
    make_runtime: RuntimeFactory,
    watcher: Publisher,
    strategies_dir: Path,
    real_redis: redis.Redis,
) -> None:
    runtimes = [make_runtime("r1"), make_runtime("r2")]
    for rt in runtimes:
        sync_published(rt)
        assert rt.reloader.target is not None
        assert not rt.publisher.active  # the watch holds the lease: a standby
    name = sorted(p.name for p in strategies_dir.glob("*.py") if not p.name.startswith("_"))[0]
    (strategies_dir / name).write_text(CHANGED)
    new = read_tree(strategies_dir).generation
    wait_for(lambda: real_redis.hget(KEYS.code, "generation") == new, "the watcher's publish")

    def live_everywhere() -> bool:
        for rt in runtimes:
            run_tick(rt)
        return all(rt.reloader.current.generation == new for rt in runtimes)

    wait_for(live_everywhere, "both runners on the new generation")
    assert all(rt.reloader.target.generation == new for rt in runtimes)
    assert all(rt.publisher.validations == 0 for rt in runtimes)  # validated once, by the watch


def test_without_a_watch_one_runner_publishes_for_all(
    make_runtime: RuntimeFactory, strategies_dir: Path, real_redis: redis.Redis
) -> None:
    runtimes = [make_runtime("r1"), make_runtime("r2")]
    assert [rt.publisher.active for rt in runtimes].count(True) == 1  # one lease
    assert all(rt.reloader.current is not None for rt in runtimes)
    change_and_wait_live(runtimes, strategies_dir)
    assert sum(rt.publisher.validations for rt in runtimes) == 2  # each tree once, for both


def test_the_publishing_runner_adopts_the_host_its_publisher_validated(
    make_runtime: RuntimeFactory,
    strategies_dir: Path,
    real_redis: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """issue 13: a change is loaded once in the runner that publishes it (the candidate
    host its publisher validated goes live); a standby runner prepares its own."""
    runtimes = [make_runtime("r1"), make_runtime("r2")]
    publishing = next(rt for rt in runtimes if rt.publisher.active)
    standby = next(rt for rt in runtimes if not rt.publisher.active)
    host = publishing.caller.host
    prepared_pids: dict[str, list[int]] = {}
    prepare = host.prepare

    def spy(tree: Tree, keep: Sequence[str] = ()) -> Prepared:
        prepared = prepare(tree, keep)
        if prepared.live is not None:
            prepared_pids.setdefault(tree.generation, []).append(prepared.live.process.pid)
        return prepared

    monkeypatch.setattr(host, "prepare", spy)
    loaders = [rt.publisher.candidates.loader for rt in (publishing, standby)]
    before = [loader.prepares for loader in loaders]
    new = change_and_wait_live(runtimes, strategies_dir)
    assert prepared_pids[new] == [host.live_pid]  # one load, in the validated process
    assert [loader.prepares for loader in loaders] == [before[0], before[1] + 1]


def test_a_typo_is_reported_as_the_rejection_and_clears_once_restored(
    make_runtime: RuntimeFactory, strategies_dir: Path
) -> None:
    """issue 12 point 2: the runners' last reload entry (the demo's line, the dashboard's
    timeline) is the publisher's SyntaxError, not "check out the same commit"; restoring
    the file ends the FAILED state."""
    runtimes = [make_runtime("r1"), make_runtime("r2")]
    good = runtimes[0].reloader.current.generation
    name = sorted(p.name for p in strategies_dir.glob("*.py") if not p.name.startswith("_"))[0]
    path = strategies_dir / name
    original = path.read_text()
    path.write_text(original + "def broken(:\n")

    def last_reloads() -> list[dict[str, Any]]:
        for rt in runtimes:
            run_tick(rt)
        status = json.loads(runtimes[0].settings.status_file.read_text())
        return [e for e in status["reloads"] if e["replica"] in ("r1", "r2")]

    wait_for(lambda: len(last_reloads()) >= 2, "both runners report")
    for _ in range(20):
        entries = last_reloads()
    kinds = [e["kind"] for e in entries]
    assert kinds == ["rejected", "rejected"], entries
    assert all("SyntaxError" in e["error"] and not e["ok"] for e in entries)
    assert "Check out" not in json.dumps(entries)
    assert all(rt.reloader.current.generation == good for rt in runtimes)

    path.write_text(original)
    wait_for(lambda: len(last_reloads()) >= 4, "both runners report the restore")
    entries = last_reloads()
    assert [(e["kind"], e["ok"]) for e in entries[2:]] == [("restored", True)] * 2
    assert {e["generation"] for e in entries[2:]} == {good}


def change_and_wait_live(runtimes: list[Runtime], strategies_dir: Path) -> str:
    """Change the first strategy file; tick every runtime until all run the new generation."""
    name = sorted(p.name for p in strategies_dir.glob("*.py") if not p.name.startswith("_"))[0]
    (strategies_dir / name).write_text(CHANGED)
    new = read_tree(strategies_dir).generation

    def live_everywhere() -> bool:
        for rt in runtimes:
            run_tick(rt)
        return all(rt.reloader.current.generation == new for rt in runtimes)

    wait_for(live_everywhere, "both runners on the new generation")
    return new
