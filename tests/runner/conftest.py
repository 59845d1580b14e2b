"""Runner fixtures: a real Redis, the paper venue in-process, a copy of the strategies."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from exchange.client import ClobClient
from exchange.paper.app import create_app
from exchange.paper.config import PaperConfig
from runner.runtime import RunnerConfig, Runtime
from runner.strategy_call import StrategyCaller
from state_store.settings import Settings
from state_store.store import Store

REPO_STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"


@pytest.fixture
def strategies_dir(tmp_path: Path) -> Path:
    target = tmp_path / "strategies"
    target.mkdir()
    for source in REPO_STRATEGIES.glob("*.py"):
        if source.name != "__init__.py":
            shutil.copy(source, target / source.name)
    return target


@pytest.fixture
def venue_app(real_redis: redis.Redis) -> Any:
    config = PaperConfig(redis=real_redis, name="paper", seed=7, window_seconds=30, speed=1.0)
    return create_app(config)


@pytest.fixture
def venue(venue_app: Any) -> Iterator[ClobClient]:
    with TestClient(venue_app) as http:
        client = ClobClient("http://paper.test", http=http)
        yield client


RuntimeFactory = Callable[..., Runtime]


@pytest.fixture
def make_runtime(
    tmp_path: Path, real_redis: redis.Redis, redis_url: str, venue: ClobClient,
    strategies_dir: Path,
) -> Iterator[RuntimeFactory]:  # fmt: skip
    from runner.publish.publisher import Publisher, PublishOptions
    from runner.published import adopt_initial
    from runner.reload import Reloader
    from runner.reload.quarantine import RedisQuarantine

    made: list[Runtime] = []

    def factory(replica: str = "r1", **config: Any) -> Runtime:
        settings = Settings.resolve(
            home=str(tmp_path / "home"), redis_url=redis_url, strategies=str(strategies_dir)
        )
        cfg = RunnerConfig(replica=replica, tick_s=0.1, **config)
        store = Store(real_redis, settings.bot)
        reloader = Reloader(
            strategies_dir,
            probation_ticks=cfg.probation_ticks,
            quarantine=RedisQuarantine(real_redis, store.keys),
            only=cfg.strategies or None,
        )
        options = PublishOptions(validate_timeout=cfg.validate_timeout_s, notify=False)
        publisher = Publisher(settings, real_redis, options)  # a standby after the first
        publisher.start()
        rt = Runtime(
            settings, cfg, real_redis, store, venue, reloader, StrategyCaller(0.5), publisher
        )
        made.append(rt)
        adopt_initial(rt, 30.0)
        return rt

    yield factory
    for rt in made:
        rt.publisher.close()
        rt.caller.close()
        rt.reloader.close()
