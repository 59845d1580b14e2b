"""A dry-run bot for `neverblink replay`: fresh bot id, paper venue in-process, manual clock.

The paper venue runs in this process on a free loopback port. Nothing here
touches the operator's bot: the sandbox has its own home (a temp folder:
control.json, status.json, audit.jsonl), its own bot id and venue name,
and by default its own private redis-server on a free loopback port. With an
explicit Redis URL, every key of the sandbox's bot and venue is deleted at the end.
Venue time moves only when the replay advances the clock: no waiting.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from control.service import ControlService
from state_store.keys import Keys, VenueKeys
from state_store.manifest import ManifestEntry
from state_store.private_redis import RedisProcess
from state_store.settings import Settings

START_TS = 1_764_000_000.0  # a fixed venue start: the same recording replays the same way
SETTLE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SandboxOptions:
    strategies: Path
    window_seconds: int = 60
    seed: int = 0
    redis_url: str | None = None  # None: a private redis-server for the replay
    decide_budget_s: float = 1.0


@dataclass
class Sandbox:
    """The handles of one dry-run bot."""

    bot: str
    settings: Settings
    client: redis.Redis
    clock: Any  # exchange.paper.clock.ManualClock
    runtime: Any  # runner.runtime.Runtime
    service: ControlService
    redis_where: str
    initial_events: list[ManifestEntry]

    def settle_reloader(self, attempts_before: int) -> None:
        """Wait (wall time, bounded) until the publisher finished a pass after a reload request."""
        publisher = self.runtime.publisher
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline and publisher.attempts <= attempts_before:
            time.sleep(0.02)


@contextmanager
def sandbox(options: SandboxOptions) -> Iterator[Sandbox]:
    """Start a dry-run bot; stop it and remove everything it wrote on exit."""
    bot = f"replay-{uuid.uuid4().hex[:8]}"
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nb-replay-")))
        client, url, where = stack.enter_context(_redis(options.redis_url, home, bot))
        settings = Settings(home / "home", url, bot, options.strategies)
        yield _build(stack, settings, client, options, where)


@contextmanager
def _redis(url: str | None, tmp: Path, bot: str) -> Iterator[tuple[redis.Redis, str, str]]:
    if url:
        client = redis.Redis.from_url(url, decode_responses=True)
        try:
            yield client, url, url
        finally:
            _delete_prefix(client, Keys(bot).prefix)
            _delete_prefix(client, VenueKeys(bot).prefix)
            client.close()
        return
    server = RedisProcess(tmp / "redis").start()
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        yield client, server.url, f"private redis-server on 127.0.0.1:{server.port}"
    finally:
        client.close()
        server.stop()


def _delete_prefix(client: redis.Redis, prefix: str) -> None:
    pattern = prefix.replace("{", "\\{").replace("}", "\\}") + "*"
    batch: list[str] = []
    for key in client.scan_iter(match=pattern, count=500):
        batch.append(key)
        if len(batch) >= 500:
            client.delete(*batch)
            batch.clear()
    if batch:
        client.delete(*batch)


def _build(
    stack: ExitStack,
    settings: Settings,
    client: redis.Redis,
    options: SandboxOptions,
    where: str,
) -> Sandbox:
    from exchange.client import ClobClient
    from exchange.paper.app import create_app
    from exchange.paper.clock import ManualClock
    from exchange.paper.config import PaperConfig
    from exchange.paper.server import BackgroundServer
    from runner.build import build_runtime, close_runtime
    from runner.publish.publisher import PublishOptions
    from runner.runtime import RunnerConfig
    from state_store.keys import Keys
    from state_store.manifest import recent

    clock = ManualClock(START_TS)
    venue_config = PaperConfig(
        redis=client,
        name=settings.bot,
        seed=options.seed,
        window_seconds=options.window_seconds,
        start_ts=START_TS,
        real_time=clock,
    )
    server = BackgroundServer(create_app(venue_config), port=0).start()  # loopback, free port
    stack.callback(server.stop)
    config = RunnerConfig(replica="replay", decide_budget_s=options.decide_budget_s)
    venue = ClobClient(server.url)
    stack.callback(venue.close)
    runtime = build_runtime(
        settings,
        config,
        venue=venue,
        client=client,
        publish_options=PublishOptions(events=False, notify=False),
    )
    stack.callback(close_runtime, runtime)
    events = recent(client, Keys(settings.bot))  # the first generation's manifest entries
    service = ControlService(settings, lambda: client)
    return Sandbox(settings.bot, settings, client, clock, runtime, service, where, events)
