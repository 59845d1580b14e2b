"""A paper venue on a loopback socket, with its streams and fault switch, for stream tests."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from exchange import ClobClient
from exchange.auth import ApiCredentials
from exchange.paper import ManualClock
from exchange.paper.stream_faults import StreamFaults, StreamSettings
from exchange.streams import StreamHub, StreamOptions
from exchange.streams.hub import StreamClient
from tests.exchange.conftest import NO_WAIT, AppFactory

CREDS = ApiCredentials("key-streams", base64.urlsafe_b64encode(b"s" * 32).decode(), "phrase")
FAST = StreamSettings(poll_s=0.01, mined_after_s=0.05, confirmed_after_s=0.1)


def wait_until(check: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll until `check()` holds; fail (not time anything) if it never does."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never happened")  # pragma: no cover
        time.sleep(0.01)


@dataclass
class StreamVenue:
    app: FastAPI
    url: str
    clock: ManualClock
    client: ClobClient
    hubs: list[StreamHub]

    @property
    def faults(self) -> StreamFaults:
        faults: StreamFaults = self.app.state.stream_faults
        return faults

    def ws(self, path: str, **options: float) -> StreamOptions:
        return StreamOptions(url=self.url.replace("http://", "ws://") + path, **options)

    def start(self, *clients: StreamClient) -> StreamHub:
        hub = StreamHub(clients).start()
        self.hubs.append(hub)
        return hub


@pytest.fixture
def stream_venue(
    make_app: AppFactory, serve_app: Callable[[FastAPI], str], clock: ManualClock
) -> Iterator[StreamVenue]:
    app = make_app(credentials=(CREDS,))
    app.state.stream_faults.settings = FAST
    url = serve_app(app)
    client = ClobClient(url, credentials=CREDS, retry=NO_WAIT, sleep=lambda s: None)
    venue = StreamVenue(app, url, clock, client, [])
    yield venue
    for hub in venue.hubs:
        hub.stop()
    client.close()
