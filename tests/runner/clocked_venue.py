"""A paper venue on a real HTTP port whose clock the test moves (for jobs, which open the
venue from its spec): reached by the paper client or, `kind="live"`, by the live venue (V2
signatures, L2 auth; the key from $NEVERBLINK_PRIVATE_KEY, as a worker's jobs get it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

from exchange.factory import VenueKind, VenueSpec, open_venue
from exchange.paper import BackgroundServer, ManualClock, PaperConfig, create_app
from exchange.venue import Venue
from runner.markets import live_windows
from state_store.models import Window
from state_store.private_redis import free_port
from state_store.store import Store

WINDOW_S = 30  # 5m windows last 30 venue seconds, 15m ones 90


@dataclass
class ClockedVenue:
    clock: ManualClock
    venue: Venue
    spec: VenueSpec  # what a job opens

    @property
    def url(self) -> str:
        return self.spec.url

    def record_live(self, store: Store) -> list[Window]:
        """Open the venue's live windows in Redis, as a runner's tick does."""
        windows = live_windows(self.venue.list_windows(), self.venue.server_time())
        for window in windows:
            store.open_window(window)
        return windows

    def end(self, window: Window) -> None:
        """Move the venue clock past the window's end (the venue then resolves it)."""
        self.clock.advance(max(window.end_ts - self.venue.server_time(), 0) + 1)


@contextmanager
def clocked_venue(client: redis.Redis, kind: VenueKind = "paper") -> Iterator[ClockedVenue]:
    clock = ManualClock(1_800_000_000.0)
    config = PaperConfig(redis=client, seed=7, window_seconds=WINDOW_S, real_time=clock)
    server = BackgroundServer(create_app(config), port=free_port()).start()
    spec = VenueSpec(kind, server.url)
    try:
        venue, close = open_venue(spec, 5.0)
        try:
            yield ClockedVenue(clock, venue, spec)
        finally:
            close()
    finally:
        server.stop()
