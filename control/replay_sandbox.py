"""A dry-run bot for `neverblink replay`: fresh bot id, paper venue in-process, manual clock.

Nothing here touches the operator's bot: the sandbox has its own home (a temp
folder: control.json, status.json, audit.jsonl), its own bot id and venue name,
and by default its own private redis-server on a free loopback port. With an
explicit Redis URL, every key of the sandbox's bot and venue is deleted at the end.
Venue time moves only when the replay advances the clock: no waiting.
"""

from __future__ import annotations

import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from control.service import ControlService
from state_store.keys import Keys, VenueKeys
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
    initial_events: list[dict[str, Any]]

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
    with warnings.catch_warnings():  # starlette 1.x: "use httpx2" (httpx is what we have)
        warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
        from starlette.testclient import TestClient

    from exchange.client import ClobClient
    from exchange.paper.app import create_app
    from exchange.paper.clock import ManualClock
    from exchange.paper.config import PaperConfig
    from runner.manifest import manifest_entry
    from runner.publish.publisher import Publisher, PublishOptions
    from runner.published import adopt_initial
    from runner.reload import Reloader
    from runner.reload.quarantine import RedisQuarantine
    from runner.runtime import RunnerConfig, Runtime
    from runner.strategy_call import StrategyCaller
    from state_store.store import Store

    clock = ManualClock(START_TS)
    venue_config = PaperConfig(
        redis=client,
        name=settings.bot,
        seed=options.seed,
        window_seconds=options.window_seconds,
        start_ts=START_TS,
        real_time=clock,
    )
    http = stack.enter_context(TestClient(create_app(venue_config)))
    config = RunnerConfig(replica="replay", decide_budget_s=options.decide_budget_s)
    store = Store(client, settings.bot)
    reloader = Reloader(options.strategies, quarantine=RedisQuarantine(client, store.keys))
    stack.callback(reloader.close)
    publisher = Publisher(settings, client, PublishOptions(events=False, notify=False))
    publisher.start()
    stack.callback(publisher.close)
    caller = StrategyCaller(config.decide_budget_s)
    stack.callback(caller.close)
    venue = ClobClient("http://paper.replay", http=http)
    runtime = Runtime(settings, config, client, store, venue, reloader, caller, publisher)
    events = [manifest_entry(e, config.replica) for e in adopt_initial(runtime, 30.0)]
    service = ControlService(settings, lambda: client)
    return Sandbox(settings.bot, settings, client, clock, runtime, service, where, events)
