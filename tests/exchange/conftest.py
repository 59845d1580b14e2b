"""Fixtures for the venue boundary: a paper venue on the private test Redis, stepped by hand.

The venue's wall clock is a `ManualClock`: tests move time with
`clock.advance(s)`, so a whole window lives in milliseconds and nothing is timed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from exchange import ClobClient, RetryPolicy
from exchange.paper import BackgroundServer, ManualClock, PaperConfig, create_app
from tests.redis_process import free_port

with warnings.catch_warnings():
    # Starlette 1.x prefers `httpx2` for its TestClient; plain httpx still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient as TestClient

#: Venue time at the first start: a multiple of 900, so every series starts a window here.
START = 1_700_001_000
WINDOW = 20  # 5m windows last 20 venue seconds in tests, 15m windows 60
NO_WAIT = RetryPolicy(retries=2, backoff_s=0.0, max_backoff_s=0.0)

AppFactory = Callable[..., FastAPI]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000.0)


@pytest.fixture
def make_config(real_redis: redis.Redis, clock: ManualClock) -> Callable[..., PaperConfig]:
    def build(**overrides: Any) -> PaperConfig:
        options: dict[str, Any] = {
            "redis": real_redis,
            "start_ts": START,
            "real_time": clock,
            "window_seconds": WINDOW,
            "seed": 7,
        }
        options.update(overrides)
        return PaperConfig(**options)

    return build


@pytest.fixture
def make_app(make_config: Callable[..., PaperConfig]) -> AppFactory:
    def build(**overrides: Any) -> FastAPI:
        return create_app(make_config(**overrides))

    return build


@pytest.fixture
def app(make_app: AppFactory) -> FastAPI:
    return make_app()


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def venue(http: TestClient) -> ClobClient:
    """A client on the in-process venue."""
    return ClobClient("http://testserver", http=http, retry=NO_WAIT, sleep=lambda s: None)


@pytest.fixture
def serve_app() -> Iterator[Callable[[FastAPI], str]]:
    """Serve an app with uvicorn on a free loopback port; returns its base URL."""
    servers: list[BackgroundServer] = []

    def start(app: FastAPI) -> str:
        server = BackgroundServer(app, port=free_port()).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(params=["in-process", "socket"])
def any_venue(
    request: pytest.FixtureRequest, app: FastAPI, serve_app: Callable[[FastAPI], str]
) -> Iterator[ClobClient]:
    """The same client over TestClient and over a real socket to uvicorn."""
    if request.param == "in-process":
        with TestClient(app, raise_server_exceptions=False) as http:
            yield ClobClient("http://testserver", http=http, retry=NO_WAIT, sleep=lambda s: None)
    else:
        client = ClobClient(serve_app(app), retry=NO_WAIT, sleep=lambda s: None, timeout=5.0)
        yield client
        client.close()
