"""Degraded mode: Redis dies mid-tick; the runner goes on without it, then catches up."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchange.types import OrderRequest, PlaceResult
from exchange.venue import Venue
from runner.build import build_runtime, close_runtime
from runner.loop import Loop
from runner.orders import poll_fills
from runner.runtime import RunnerConfig
from state_store.desired import DesiredState
from state_store.files import write_json_atomic
from state_store.private_redis import RedisProcess
from state_store.settings import Settings
from tests.runner.conftest import BOTH_VENUES
from tests.runner.test_tick import ledger, only_always


class KillsRedisAfterFirstOrder:
    """A venue that lets the first post (one order, or a tick's batch) through and then
    pulls Redis from under the runner."""

    def __init__(self, venue: Venue, server: RedisProcess) -> None:
        self._venue = venue
        self._server = server
        self.killed = False

    def place(self, req: OrderRequest) -> PlaceResult:
        placed = self._venue.place(req)
        self._kill()
        return placed

    def place_many(self, reqs: Sequence[OrderRequest]) -> list[PlaceResult]:
        placed: list[PlaceResult] = getattr(self._venue, "place_many")(reqs)  # noqa: B009
        self._kill()
        return placed

    def _kill(self) -> None:
        if not self.killed:
            self._server.kill()
            self.killed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venue, name)


@pytest.fixture
def bot_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path / "bot-redis", appendonly=True).start()
    yield server
    server.stop()


@BOTH_VENUES
@pytest.mark.timeout(120)
def test_runner_survives_redis_loss_and_applies_its_journal(
    tmp_path: Path, bot_redis: RedisProcess, venue: Venue, strategies_dir: Path
) -> None:
    only_always(strategies_dir)
    settings = Settings.resolve(
        home=str(tmp_path / "home"), redis_url=bot_redis.url, strategies=str(strategies_dir)
    )
    flaky = KillsRedisAfterFirstOrder(venue, bot_redis)
    config = RunnerConfig("r1", tick_s=0.05, decide_budget_s=0.5)
    rt = build_runtime(settings, config, venue=flaky)
    loop = Loop(rt)
    try:
        loop.one_tick()  # places the first order; Redis dies right after the venue accepts it
        assert flaky.killed and rt.degraded
        write_json_atomic(settings.control_file, DesiredState(version=5, paused=True).model_dump())
        for _ in range(3):
            loop.one_tick()
        status = json.loads(settings.status_file.read_text())["runners"]["r1"]
        assert status["degraded"] and status["paused"] and status["tick"] == 4
        journal = tmp_path / "home" / "journal" / "default-r1.jsonl"
        assert journal.exists() and json.loads(journal.read_text().splitlines()[0])["fills"]

        bot_redis.start()  # same port, same AOF
        loop.one_tick()  # recovers: journal applied, half-done order reconciled
        loop.one_tick()
        assert not rt.degraded and not journal.exists()
    finally:
        loop.teardown()
        close_runtime(rt)
    store = rt.store  # its Redis client reconnects on use
    poll_fills(store, venue)  # fills of an order the last tick placed (a new window)
    orders = [o for m in store.markets() for o in store.market_orders(m)]
    assert orders and all(o.status.value not in ("new", "submitted") for o in orders)
    venue_ledger = ledger(venue)
    for order in orders:
        assert order.filled == venue_ledger.get(order.venue_order_id, Decimal(0))
    assert sum(store.position(m).up_shares for m in store.markets()) == sum(
        venue_ledger.values(), Decimal(0)
    )
