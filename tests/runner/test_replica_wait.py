"""WAIT before posting (runner.orders.ReplicaWait): against a real redis-server that has no
replica, an order the replicas did not acknowledge is rejected with the reason and never
reaches the venue; without a WAIT it is posted. (With replicas: test_sentinel_lost_writes.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange.venue import Venue
from runner.orders import ALL_CONNECTED
from runner.tick import run_tick
from state_store.models import OrderStatus
from tests.runner.conftest import RuntimeFactory
from tests.runner.test_tick import only_always


@pytest.mark.parametrize("replicas", [1, ALL_CONNECTED])
def test_orders_no_replica_acknowledged_are_rejected_not_posted(
    make_runtime: RuntimeFactory, strategies_dir: Path, venue: Venue, replicas: int
) -> None:
    only_always(strategies_dir)
    rt = make_runtime(wait_replicas=replicas, wait_timeout_ms=20)
    for _ in range(3):
        run_tick(rt)
    orders = [o for m in rt.store.markets() for o in rt.store.market_orders(m)]
    assert orders, "the always-buy strategy asked for nothing"
    assert all(o.status == OrderStatus.REJECTED for o in orders), orders
    assert all("not replicated: 0 of 1 replicas" in o.error for o in orders), orders[0].error
    assert not venue.fills_since(None)[0] and not venue.open_orders()


def test_without_wait_orders_are_posted(
    make_runtime: RuntimeFactory, strategies_dir: Path, venue: Venue
) -> None:
    only_always(strategies_dir)
    rt = make_runtime(wait_replicas=0)
    for _ in range(3):
        run_tick(rt)
    orders = [o for m in rt.store.markets() for o in rt.store.market_orders(m)]
    assert orders and not [o for o in orders if "(WAIT)" in o.error]
    assert venue.fills_since(None)[0] or venue.open_orders()


@pytest.mark.parametrize(
    ("option", "url", "expected"),
    [
        ("auto", "redis+sentinel://127.0.0.1:26379/neverblink", ALL_CONNECTED),
        ("auto", "redis://127.0.0.1:7000/0", 0),
        ("auto", None, 0),
        ("2", "redis+sentinel://127.0.0.1:26379/neverblink", 2),
        ("0", "redis+sentinel://127.0.0.1:26379/neverblink", 0),
    ],
)
def test_wait_replicas_option(option: str, url: str | None, expected: int) -> None:
    from control.cli_run import replicas_to_wait_for
    from state_store.settings import Settings

    settings = Settings.resolve(home="/nonexistent", redis_url=url)
    assert replicas_to_wait_for(option, settings) == expected


@pytest.mark.parametrize("option", ["-1", "many"])
def test_wait_replicas_option_refuses_nonsense(option: str) -> None:
    import click

    from control.cli_run import replicas_to_wait_for
    from state_store.settings import Settings

    with pytest.raises(click.BadParameter):
        replicas_to_wait_for(option, Settings.resolve(home="/nonexistent"))
