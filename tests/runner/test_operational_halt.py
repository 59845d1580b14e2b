"""An operational error (bad credentials at the paper venue): no new orders, the loop goes on,
the reason in status.json, `ctl status`, the log and one audit entry; the operator lifts it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result
from starlette.testclient import TestClient

from control.cli import main
from exchange.auth import ApiCredentials
from exchange.client import ClobClient
from exchange.errors import VenueError
from exchange.paper.app import create_app
from exchange.paper.config import PaperConfig
from runner.loop import Loop
from runner.runtime import Runtime
from state_store.audit import read_jsonl, read_stream
from state_store.errors import OperationalError
from state_store.settings import Settings
from tests.runner.conftest import RuntimeFactory
from tests.runner.test_tick import only_always

GOOD = ApiCredentials(
    api_key="bot-key", secret="c2VjcmV0LWtleS1mb3ItdGVzdHM=", passphrase="pp", address="0xabc"
)
WRONG = ApiCredentials(
    api_key="bot-key", secret="d3Jvbmctc2VjcmV0LWtleQ==", passphrase="pp", address="0xabc"
)


@pytest.fixture
def venue_app(real_redis: redis.Redis) -> Any:
    """The paper venue with L2 auth on: only GOOD's signatures are accepted."""
    config = PaperConfig(
        redis=real_redis, name="paper", seed=7, window_seconds=30, speed=1.0, credentials=(GOOD,)
    )
    return create_app(config)


@pytest.fixture
def paper_http(venue_app: Any) -> Iterator[TestClient]:
    with TestClient(venue_app) as http:
        yield http


@pytest.fixture
def venue(paper_http: TestClient) -> ClobClient:
    """What the runner is configured with: the right key, a wrong secret."""
    return ClobClient("http://paper.test", http=paper_http, credentials=WRONG)


def ctl(settings: Settings, *args: str) -> Result:
    flags = ["--home", str(settings.home), "--redis-url", settings.redis_url or ""]
    flags += ["--strategies", str(settings.strategies)]
    return CliRunner().invoke(main, ["ctl", *args, *flags])


def halts(rt: Runtime) -> tuple[list[str], list[str]]:
    stream = [e.change_id for e in read_stream(rt.client, rt.store.keys) if e.command == "halt"]
    file = [e.change_id for e in read_jsonl(rt.settings.audit_file) if e.command == "halt"]
    return stream, file


def orders_in_redis(rt: Runtime) -> int:
    return sum(len(rt.store.market_orders(m)) for m in rt.store.markets())


def test_bad_credentials_halt_orders_not_the_loop(
    make_runtime: RuntimeFactory,
    strategies_dir: Any,
    paper_http: TestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    only_always(strategies_dir)  # buys every tick in every market it may trade
    rt = make_runtime()
    loop = Loop(rt)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(5):
                loop.one_tick()
        section = json.loads(rt.settings.status_file.read_text())["runners"]["r1"]
        assert section["tick"] == 5  # the loop kept ticking
        assert section["markets"]  # and kept its leases
        assert "AuthError" in section["operational_error"]
        assert "credentials refused" in section["operational_error"]
        assert section["operational_error_since"] is not None
        assert WRONG.secret not in json.dumps(section) and GOOD.secret not in json.dumps(section)
        assert section["orders_created"] == 0 and orders_in_redis(rt) == 0
        assert section["venue_errors"] == 0  # not a counter that ticks forever
        said = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(said) == 1 and "operational error" in said[0].getMessage()
        stream, file = halts(rt)
        assert len(stream) == 1 and stream == file  # one entry, not one per tick

        shown = ctl(rt.settings, "status")
        assert shown.exit_code == 0, shown.output
        assert "HALTED since" in shown.output and "credentials refused" in shown.output
        as_json = json.loads(ctl(rt.settings, "status", "--json").output)
        assert "AuthError" in as_json["runners"][0]["operational_error"]

        # the operator fixes the credentials, then says go on: the halt lifts, orders go out
        rt.venue = ClobClient("http://paper.test", http=paper_http, credentials=GOOD)
        assert ctl(rt.settings, "resume").exit_code == 0
        for _ in range(2):
            loop.one_tick()
        assert rt.halt is None and rt.counters.orders_created > 0
        section = json.loads(rt.settings.status_file.read_text())["runners"]["r1"]
        assert section["operational_error"] == "" and section["operational_error_since"] is None
        assert len(halts(rt)[0]) == 1
    finally:
        loop.teardown()


def test_a_cause_that_persists_after_resume_halts_again_with_a_new_entry(
    make_runtime: RuntimeFactory, strategies_dir: Any
) -> None:
    only_always(strategies_dir)
    rt = make_runtime()
    loop = Loop(rt)
    try:
        loop.one_tick()
        first = rt.halt
        assert first is not None and first.audited
        assert ctl(rt.settings, "resume").exit_code == 0
        loop.one_tick()
        assert rt.halt is not None and rt.halt is not first
        assert rt.counters.orders_created == 0
        assert len(halts(rt)[0]) == 2
    finally:
        loop.teardown()


class RefusesOrders:
    """A venue whose account is restricted: reads work, every order is refused with 403."""

    def __init__(self, venue: ClobClient) -> None:
        self._venue = venue
        self.tried = 0

    def place(self, req: Any) -> Any:
        from exchange.errors import AccountRestricted

        self.tried += 1
        raise AccountRestricted("POST /order: account may not trade: closed only mode", status=403)

    def place_many(self, reqs: Any) -> Any:  # a tick's orders in one POST /orders
        from exchange.errors import AccountRestricted

        self.tried += 1
        raise AccountRestricted("POST /orders: account may not trade: closed only mode", status=403)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venue, name)


def test_a_restricted_account_stops_order_attempts_after_the_first(
    make_runtime: RuntimeFactory, strategies_dir: Any, paper_http: TestClient
) -> None:
    only_always(strategies_dir)
    rt = make_runtime()
    restricted = RefusesOrders(ClobClient("http://paper.test", http=paper_http, credentials=GOOD))
    rt.venue = restricted
    loop = Loop(rt)
    try:
        for _ in range(4):
            loop.one_tick()
        assert restricted.tried == 1  # the first refusal halted; no order was tried again
        assert rt.tick == 4 and rt.halt is not None and rt.halt.kind == "AccountRestricted"
        assert len(halts(rt)[0]) == 1
    finally:
        loop.teardown()


def test_venue_errors_have_a_kind() -> None:
    from exchange import errors as e

    for kind in (e.AuthError, e.AccountRestricted, e.UnknownMarketSeries):
        assert issubclass(kind, OperationalError) and issubclass(kind, VenueError)
    for other in (e.OrderRejected, e.NotFound, e.BadRequest):
        assert not issubclass(other, OperationalError)
