"""Runners follow the watcher: they adopt its published generation, never validate twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from control.watcher.watcher import Watcher
from runner.published import published_target, sync_published
from runner.reload import read_tree
from runner.tick import run_tick
from state_store.keys import Keys
from tests.control.watcher.helpers import make_settings, wait_for, watcher_options
from tests.runner.conftest import RuntimeFactory

KEYS = Keys("default")
CHANGED = """
def decide(view):
    return []
"""


@pytest.fixture
def watcher(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis, strategies_dir: Path
) -> Iterator[Watcher]:
    settings = make_settings(tmp_path / "home", redis_url, strategies_dir)
    watcher = Watcher(settings, real_redis, watcher_options())
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    wait_for(lambda: real_redis.hget(KEYS.code, "generation"), "a first publish")
    yield watcher
    watcher.stop()
    thread.join(30)


def test_no_watcher_means_no_target(real_redis: redis.Redis) -> None:
    assert published_target(real_redis, KEYS, None) is None
    real_redis.hset(KEYS.code, mapping={"generation": "abc", "seq": "1", "files": "{}"})
    assert published_target(real_redis, KEYS, None) is None  # a record, but no lease


def test_an_unchanged_record_is_not_read_again(
    real_redis: redis.Redis, watcher: Watcher, strategies_dir: Path
) -> None:
    target = published_target(real_redis, KEYS, None)
    assert target is not None
    assert target.generation == read_tree(strategies_dir).generation
    assert dict(target.files) == dict(read_tree(strategies_dir).hashes)
    assert published_target(real_redis, KEYS, target) is target


def test_two_runtimes_adopt_each_publish_without_validating(
    make_runtime: RuntimeFactory,
    watcher: Watcher,
    strategies_dir: Path,
    real_redis: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtimes = [make_runtime("r1"), make_runtime("r2")]

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a runner following the watcher validated a tree itself")

    monkeypatch.setattr("runner.reload.builder.validate_tree", forbidden)
    for rt in runtimes:
        sync_published(rt)
        assert rt.reloader.following is not None
    name = sorted(p.name for p in strategies_dir.glob("*.py") if not p.name.startswith("_"))[0]
    (strategies_dir / name).write_text(CHANGED)
    new = read_tree(strategies_dir).generation
    wait_for(lambda: real_redis.hget(KEYS.code, "generation") == new, "the watcher's publish")

    def live_everywhere() -> bool:
        for rt in runtimes:
            run_tick(rt)
        return all(rt.reloader.current.generation == new for rt in runtimes)

    wait_for(live_everywhere, "both runners on the new generation")
    assert all(rt.reloader.following.generation == new for rt in runtimes)
