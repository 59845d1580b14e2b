"""The chaos test's fencing check fails on the violations it exists to catch."""

from __future__ import annotations

from decimal import Decimal

import pytest

from state_store.models import Order, OrderStatus
from tests.runner.replica_checks import check_fencing

GRANTS = [
    {"market": "m", "replica": "r1", "token": 1, "ts": 100.0},
    {"market": "m", "replica": "r2", "token": 4, "ts": 110.0},
]


def order(replica: str, fence: int, created_at: float) -> Order:
    return Order(
        client_order_id=f"c-{replica}-{fence}-{created_at}", market="m", strategy="s",
        intent_key="k", outcome="Up", token_id="t", side="BUY", price=Decimal("0.5"),
        size=Decimal(5), order_type="GTC", status=OrderStatus.FILLED, replica=replica,
        fence=fence, created_at=created_at,
    )  # fmt: skip


def test_orders_under_the_token_in_force_pass() -> None:
    check_fencing([order("r1", 1, 100.5), order("r1", 1, 109.9), order("r2", 4, 110.2)], GRANTS)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (order("r1", 1, 111.0), "stale token"),  # r1 woke up after r2 took the market
        (order("r1", 4, 111.0), "under the token of r2"),
        (order("r1", 2, 105.0), "never granted"),
        (order("r2", 4, 105.0), "before its token"),
    ],
)
def test_each_fencing_violation_is_caught(bad: Order, says: str) -> None:
    with pytest.raises(AssertionError, match=says):
        check_fencing([order("r1", 1, 100.5), bad], GRANTS)
