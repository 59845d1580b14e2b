"""A paper venue served on a loopback socket (REST and its streams) and a runner built with
`feed_config` against it: what the runner's stream tests share."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import redis
from eth_account import Account

from control.bench.roomy_risk import ROOMY_RISK
from exchange.factory import VenueSpec, open_venue
from exchange.live.keys import KEY_ENV
from exchange.paper import BackgroundServer
from exchange.paper.app import create_app
from exchange.paper.config import PaperConfig
from exchange.paper.stats import RequestCounts
from exchange.paper.stream_faults import StreamFaults, StreamSettings
from exchange.streams.feeds import FeedConfig
from exchange.venue import Venue
from runner import jobs
from runner.build import build_runtime, close_runtime
from runner.discovery import DiscoveryConfig
from runner.reconcile import Reconciler
from runner.runtime import RunnerConfig, Runtime
from runner.tick import run_tick
from state_store.desired import DesiredState
from state_store.settings import Settings
from tests.redis_process import free_port


@dataclass
class Streamed:
    rt: Runtime
    venue: Venue
    app: Any
    url: str
    settings: Settings

    @property
    def faults(self) -> StreamFaults:
        faults: StreamFaults = self.app.state.stream_faults
        return faults

    @property
    def counts(self) -> RequestCounts:
        counts: RequestCounts = self.app.state.request_counts
        return counts

    def tick_until(self, check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        """Tick (about every 50 ms) until `check()` holds; fail if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            run_tick(self.rt)
            if check():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout} s")
            time.sleep(0.05)

    def pause(self, paused: bool = True) -> None:
        key = self.rt.store.keys.control
        current = DesiredState.from_redis(self.rt.client.hgetall(key))  # type: ignore[arg-type]
        desired = current.model_copy(update={"version": current.version + 1, "paused": paused})
        self.rt.client.hset(key, mapping=cast(Any, desired.to_redis()))

    def caught_up(self) -> bool:
        user = self.rt.feeds.user if self.rt.feeds is not None else None
        state = self.rt.user_stream
        return user is not None and user.connected and state.caught_up_connects == user.connects

    def venue_fills(self) -> dict[str, Decimal]:
        """Shares bought per market, from the venue's own trades (FAILED ones left out)."""
        fills, _ = self.venue.fills_since(None)
        markets = {w.condition_id: w.market for w in self.rt.store.windows()}
        sizes: dict[str, Decimal] = {}
        for fill in fills:
            if not fill.failed:
                market = markets[fill.market]
                sizes[market] = sizes.get(market, Decimal(0)) + fill.size
        return sizes

    def reconcile(self) -> dict[str, int]:
        conn = redis.Redis.from_url(str(self.settings.redis_url))
        try:
            target = jobs.JobTarget.of(self.settings, VenueSpec.from_plain(self.url))
            return Reconciler(self.rt.store, self.venue, target, conn, recheck_s=0).run()
        finally:
            conn.close()


def write_strategy(folder: Path, source: str) -> None:
    for path in folder.glob("*.py"):
        path.unlink()
    (folder / "buyer.py").write_text(source)


@contextmanager
def stream_rig(
    kind: str, tmp_path: Path, real_redis: redis.Redis, redis_url: str, strategies_dir: Path
) -> Iterator[Callable[..., Streamed]]:
    """`make(source, user=True, prices=False, market=False, book_stale_s=5, venue={...},
    silence_timeout_s=30, **stream settings)`: a paper venue
    on a socket and a runner with those streams (the market channel checks the paper venue's
    book hashes); `kind` "live": the live venue client (V2
    signatures, L2 auth, credentials derived from the paper venue), else the paper client."""
    made: list[tuple[Runtime, BackgroundServer, Callable[[], object]]] = []

    def make(
        source: str, user: bool = True, prices: bool = False, market: bool = False,
        book_stale_s: float = 5.0, venue: dict[str, Any] | None = None,
        silence_timeout_s: float = 30.0, discover: bool = False, **stream: float,
    ) -> Streamed:  # fmt: skip
        write_strategy(strategies_dir, source)
        options: dict[str, Any] = {"window_seconds": 30, **(venue or {})}
        app = create_app(PaperConfig(redis=real_redis, name="paper", seed=7, **options))
        app.state.stream_faults.settings = StreamSettings(poll_s=0.01, **stream)  # type: ignore[arg-type]
        server = BackgroundServer(app, port=free_port()).start()
        if kind == "live":
            env = {KEY_ENV: Account.create().key.hex()}
            client, close = open_venue(VenueSpec("live", server.url), 5.0, env=env)
            creds = None  # the runner signs in with the live venue's own
        else:
            client, close = open_venue(VenueSpec("paper", server.url), 5.0)
            creds = None  # an open paper venue: the client's owner signs in
        settings = Settings.resolve(
            home=str(tmp_path / "home"), redis_url=redis_url, strategies=str(strategies_dir)
        )
        ws = server.url.replace("http://", "ws://")
        feed = FeedConfig(
            user_url=ws + "/ws/user" if user else "",
            price_url=ws + "/ws/live-data" if prices else "",
            market_url=ws + "/ws/market" if market else "",
            stale_after_s=book_stale_s,
            verify_hash=True,
            credentials=creds,
            assets=tuple(options.get("assets", ("btc", "eth"))),
            silence_timeout_s=silence_timeout_s,
        )
        cfg = RunnerConfig(replica="r1", tick_s=0.1, decide_budget_s=1.0)
        finder = DiscoveryConfig(gamma_url=server.url) if discover else None  # its own Gamma
        rt = build_runtime(
            settings, cfg, venue=client, client=real_redis, feed_config=feed, discovery=finder
        )
        roomy = DesiredState(version=1, risk=cast(Any, ROOMY_RISK))  # streams, not risk, tested
        real_redis.hset(rt.store.keys.control, mapping=cast(Any, roomy.to_redis()))
        made.append((rt, server, close))
        return Streamed(rt, client, app, server.url, settings)

    try:
        yield make
    finally:
        for rt, server, close in made:
            close_runtime(rt)
            close()
            server.stop()
