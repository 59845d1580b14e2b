"""Mission Control fixtures: the app on a real Redis (or an unreachable one), a live server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.testclient import TestClient

from control.api import ApiConfig, create_app
from control.api.sse import stop_streams
from state_store.private_redis import free_port
from state_store.settings import Settings

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app() -> Iterator[AppFactory]:
    """Apps for a settings value; their ControlService is closed after the test."""
    made: list[FastAPI] = []

    def make(settings: Settings, **options: Any) -> FastAPI:
        app = create_app(settings, ApiConfig(token=TOKEN, **options))
        made.append(app)
        return app

    yield make
    for app in made:
        app.state.service.close()


@pytest.fixture
def client(make_app: AppFactory, settings: Settings) -> Iterator[TestClient]:
    """The API on the session's real Redis (flushed), home and strategies of the test."""
    with TestClient(make_app(settings)) as http:
        yield http


@pytest.fixture
def down_client(make_app: AppFactory, down_settings: Settings) -> Iterator[TestClient]:
    """The API of a home whose Redis is unreachable."""
    with TestClient(make_app(down_settings)) as http:
        yield http


class LiveServer:
    """uvicorn on a daemon thread and a free loopback port (for streams and browsers)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning",
            timeout_graceful_shutdown=1,
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, name="mission-control", daemon=True)

    def start(self, timeout: float = 10.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"Mission Control did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        stop_streams(self.server.config.app)
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_server() -> Iterator[Callable[[FastAPI], LiveServer]]:
    started: list[LiveServer] = []

    def start(app: FastAPI) -> LiveServer:
        server = LiveServer(app).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
