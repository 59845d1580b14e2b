"""Publisher fixtures: a home, a strategies folder, watchers in threads that are always stopped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from runner.publish.publisher import Publisher
from tests.runner.publish.helpers import Running, make_settings, watcher_options

StartWatcher = Callable[..., Running]


@pytest.fixture
def strategies(tmp_path: Path) -> Path:
    directory = tmp_path / "strategies"
    directory.mkdir()
    return directory


@pytest.fixture
def start_watcher(
    tmp_path: Path, redis_url: str, real_redis: redis.Redis, strategies: Path
) -> Iterator[StartWatcher]:
    started: list[Running] = []

    def start(directory: Path | None = None, **options: Any) -> Running:
        settings = make_settings(tmp_path / "home", redis_url, directory or strategies)
        watcher = Publisher(settings, real_redis, watcher_options(**options))
        running = Running(watcher)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
