"""Control-plane fixtures: a home, a strategies folder of our own, services on either plane."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from control.service import ControlService
from state_store.private_redis import RedisProcess, free_port
from state_store.settings import Settings

ALPHA = """
PARAMS = {"size": 5, "edge": 0.04, "enabled": True, "mode": "late"}


def decide(view):
    return []
"""
BETA = """
PARAMS: dict = {"limit": 3}


def decide(view):
    return []
"""
HELPER = """
SCALE = 2


def helper(x):
    return x * SCALE
"""


def write_strategies(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "__init__.py").write_text("")
    (directory / "alpha.py").write_text(ALPHA)
    (directory / "beta.py").write_text(BETA)
    (directory / "_helper.py").write_text(HELPER)
    return directory


def dead_url() -> str:
    """A Redis URL nothing listens on (connection refused at once)."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def strategies(tmp_path: Path) -> Path:
    return write_strategies(tmp_path / "strategies")


@pytest.fixture
def make_settings(tmp_path: Path, strategies: Path) -> Callable[..., Settings]:
    def make(redis_url: str, home: str = "home", bot: str = "b1") -> Settings:
        return Settings(tmp_path / home, redis_url, bot, strategies)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings], redis_url: str) -> Settings:
    """A home whose Redis is the session's real redis-server (flushed)."""
    return make_settings(redis_url)


@pytest.fixture
def down_settings(make_settings: Callable[..., Settings]) -> Settings:
    """A home (another one) whose Redis is unreachable."""
    return make_settings(dead_url(), home="down-home")


@pytest.fixture
def service(settings: Settings) -> Iterator[ControlService]:
    svc = ControlService(settings)
    yield svc
    svc.close()


@pytest.fixture
def down_service(down_settings: Settings) -> Iterator[ControlService]:
    svc = ControlService(down_settings)
    yield svc
    svc.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A private redis-server this test may kill and restart (same port)."""
    proc = RedisProcess(tmp_path / "own-redis").start()
    yield proc
    proc.stop()
