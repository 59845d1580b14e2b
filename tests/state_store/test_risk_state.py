"""Risk limits in the desired state: typed and bounded in control.json and in Redis."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from state_store import risk
from state_store.desired import DesiredState, InvalidControlFile, parse_control


def test_limits_round_trip_through_the_redis_hash_and_the_file() -> None:
    state = DesiredState(version=3, risk={"bot": {"max_shares": 20.0, "max_open_orders": 4}})
    assert DesiredState.from_redis(state.to_redis()) == state
    assert parse_control(json.dumps(state.to_file())) == state


@pytest.mark.parametrize(
    "limits",
    [
        {"bot": {"max_shares": "big"}},
        {"bot": {"max_open_orders": 2.5}},
        {"bot": {"max_daily_loss": -1}},
        {"bot": {"max_notional": 1e12}},
        {"bot": {"nope": 1}},
        {"bot": {"max_shares": True}},
    ],
)
def test_a_control_file_with_a_bad_limit_is_invalid(limits: dict[str, object]) -> None:
    with pytest.raises(InvalidControlFile, match="risk"):
        parse_control(json.dumps({"version": 1, "risk": limits}))


def test_a_strategy_inherits_the_bots_limits_unless_it_has_its_own() -> None:
    overrides: dict[str, dict[str, float]] = {
        "bot": {"max_shares": 30.0},
        "alpha": {"max_open_orders": 2},
    }
    alpha, beta = risk.limits_of(overrides, "alpha"), risk.limits_of(overrides, "beta")
    assert alpha.max_shares == beta.max_shares == Decimal(30)
    assert (alpha.max_open_orders, beta.max_open_orders) == (2, 20)
    assert risk.limits_of({}, "bot") == risk.Limits(Decimal(100), Decimal(100), 20, Decimal(50))
    assert risk.limits_of({"bot": {"max_notional": 0.1234567}}, "x").max_notional == Decimal(
        "0.123456"
    )  # micro-units, rounded down: Lua compares exact integers
