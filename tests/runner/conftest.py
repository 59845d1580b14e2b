"""Runner fixtures: a real Redis, the paper venue in-process, a copy of the strategies."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from eth_account import Account
from starlette.testclient import TestClient

from exchange.client import ClobClient
from exchange.factory import VenueKind, VenueSpec, open_venue
from exchange.live.keys import KEY_ENV
from exchange.paper.app import create_app
from exchange.paper.config import PaperConfig
from exchange.venue import Venue
from runner.build import build_runtime, close_runtime
from runner.runtime import RunnerConfig, Runtime
from state_store.settings import Settings
from tests.runner.clocked_venue import ClockedVenue, clocked_venue

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


#: run a scenario on the paper client and on the live venue (V2 signatures, L2 auth)
BOTH_VENUES = pytest.mark.parametrize("venue", ["paper", "live"], indirect=True)
#: the same for scenarios on `clocked` (a paper venue on a port, for jobs)
BOTH_CLOCKED = pytest.mark.parametrize("clocked", ["paper", "live"], indirect=True)


@pytest.fixture
def clocked(
    real_redis: redis.Redis, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ClockedVenue]:
    """A paper venue on a real port, its clock moved by the test; parametrized `"live"`
    (indirect): reached by the live venue, the throwaway key in the environment (jobs
    run in this process open the venue from their spec and sign with it)."""
    kind: VenueKind = getattr(request, "param", "paper")
    if kind == "live":
        monkeypatch.setenv(KEY_ENV, Account.create().key.hex())
    with clocked_venue(real_redis, kind) as venue:
        yield venue


@pytest.fixture
def venue(venue_app: Any, request: pytest.FixtureRequest) -> Iterator[Venue]:
    """The paper CLOB client; parametrized `"live"` (indirect): the live venue with a
    throwaway key, real V2 signatures and L2 auth, built by the runner's venue factory
    against the same paper venue (only the URL differs from mainnet)."""
    kind = getattr(request, "param", "paper")
    with TestClient(venue_app) as http:
        if kind == "paper":
            yield ClobClient("http://paper.test", http=http)
            return
        env = {KEY_ENV: Account.create().key.hex()}
        spec = VenueSpec("live", "http://paper.test")
        live, close = open_venue(spec, 5.0, http=http, env=env)
        try:
            yield live
        finally:
            close()


RuntimeFactory = Callable[..., Runtime]


@pytest.fixture
def make_runtime(
    tmp_path: Path, real_redis: redis.Redis, redis_url: str, venue: Venue,
    strategies_dir: Path,
) -> Iterator[RuntimeFactory]:  # fmt: skip
    """Runtimes built by the composition root (build_runtime), on the in-process paper venue."""
    made: list[Runtime] = []
    kind: VenueKind = "paper" if isinstance(venue, ClobClient) else "live"
    spec = VenueSpec(kind, "http://paper.test")  # what its settlement jobs would open

    def factory(replica: str = "r1", **config: Any) -> Runtime:
        settings = Settings.resolve(
            home=str(tmp_path / "home"), redis_url=redis_url, strategies=str(strategies_dir)
        )
        config.setdefault("decide_budget_s", 0.5)
        cfg = RunnerConfig(replica=replica, tick_s=0.1, **config)
        rt = build_runtime(settings, cfg, venue=venue, client=real_redis, venue_spec=spec)
        made.append(rt)
        return rt

    yield factory
    for rt in made:
        close_runtime(rt)
