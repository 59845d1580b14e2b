"""Reload fixtures: a strategies folder in tmp_path, a publisher and reloaders that clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from runner.publish.publisher import Publisher, PublishOptions
from state_store.settings import Settings
from tests.runner.reload.helpers import Bot

PUBLISH_OPTIONS = {"quiet", "validate_timeout", "detect_writers", "hold_report", "events"}


@pytest.fixture
def strat_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "strategies"
    directory.mkdir()
    return directory


@pytest.fixture
def make_bot(
    tmp_path: Path, strat_dir: Path, redis_url: str, real_redis: redis.Redis
) -> Iterator[Callable[..., Bot]]:
    """A publisher (the code `neverblink watch` runs, on a thread) and one runner's reloader.

    Publisher options (quiet, validate_timeout, detect_writers, hold_report) go to the
    publisher, the rest to the Reloader."""
    made: list[Bot] = []
    settings = Settings.resolve(str(tmp_path / "home"), redis_url, "default", str(strat_dir))

    def factory(*, publisher: bool = True, **kwargs: Any) -> Bot:
        kwargs.setdefault("quiet", 0.02)
        kwargs.setdefault("probation_ticks", 3)
        kwargs.setdefault("hold_report", 0.1)
        options = {k: kwargs.pop(k) for k in PUBLISH_OPTIONS if k in kwargs}
        running = None
        if publisher and not made:  # one publisher per bot: the first bot's
            running = Publisher(settings, real_redis, PublishOptions(**options, lease_ttl=2.0))
            running.start()
        bot = Bot(real_redis, strat_dir, running, **kwargs)
        made.append(bot)
        return bot

    yield factory
    for bot in made:
        bot.close()
