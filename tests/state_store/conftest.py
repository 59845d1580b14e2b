"""Store fixtures: every store test runs on fakeredis and on a real redis-server."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
import redis

from state_store.models import Window
from state_store.store import Lease, Store

BOT = "default"


@pytest.fixture(params=["fake", "real"])
def client(request: pytest.FixtureRequest) -> redis.Redis:
    name = "fake_redis" if request.param == "fake" else "real_redis"
    result: redis.Redis = request.getfixturevalue(name)
    return result


@pytest.fixture
def store(client: redis.Redis) -> Store:
    return Store(client, BOT)


def make_window(market: str = "btc-updown-5m-1764000000", start: float = 1764000000.0) -> Window:
    return Window(
        market=market,
        asset="btc",
        interval="5m",
        start_ts=start,
        end_ts=start + 300,
        condition_id="0xcond-" + market,
        up_token="up-" + market,
        down_token="down-" + market,
        start_price="97000.5",
    )


@pytest.fixture
def open_market(store: Store) -> Callable[..., tuple[Window, Lease]]:
    """Open a window and take its lease as replica r1."""

    def _open(market: str = "btc-updown-5m-1764000000") -> tuple[Window, Lease]:
        window = make_window(market)
        store.open_window(window)
        lease = store.claim_lease(market, "r1", 30_000)
        assert lease is not None
        return window, lease

    return _open


D = Decimal
