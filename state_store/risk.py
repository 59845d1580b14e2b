"""Risk limits: their names, conservative defaults, bounds, and the limits in force.

Limits apply per bot (scope `bot`) and per strategy (scope = the strategy's name).
The operator's overrides live in the desired state (`DesiredState.risk`, scope ->
limit -> value), so they are versioned, audited, mirrored to control.json and
survive restarts. A strategy's limits default to the bot's limits in force.

    max_shares        shares of one outcome of one market: position + open buys
    max_notional      pUSD of buys in one market window (filled + still open)
    max_open_orders   orders not yet in a terminal state
    max_daily_loss    loss in one UTC day, realized plus marked (pUSD, a positive number)

Only entries (BUY orders) are refused: a sell, which can only reduce a position on
Polymarket, is never blocked by a risk limit. The runner checks the first three
inside the order-creating Lua script (atomic with the create, so two replicas
cannot both pass a bot limit), and the loss limit each tick (runner.risk).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import cast

from state_store.param_spec import Param, value_problem

BOT = "bot"  # the scope of the bot-wide limits (a strategy named `bot` cannot have its own)

LIMITS: Mapping[str, Param] = {
    "max_shares": Param(100.0, min=0, max=1_000_000),
    "max_notional": Param(100.0, min=0, max=10_000_000),
    "max_open_orders": Param(20, min=0, max=10_000),
    "max_daily_loss": Param(50.0, min=0, max=10_000_000),
}
HELP: Mapping[str, str] = {
    "max_shares": "shares of one outcome of one market (position + open buys)",
    "max_notional": "pUSD of buys in one market window (filled + open)",
    "max_open_orders": "orders not yet filled, cancelled, rejected or expired",
    "max_daily_loss": "loss in one UTC day, realized + marked (pauses entries)",
}

Overrides = Mapping[str, Mapping[str, bool | int | float | str]]


@dataclass(frozen=True)
class Limits:
    """The limits in force for one scope."""

    max_shares: Decimal
    max_notional: Decimal
    max_open_orders: int
    max_daily_loss: Decimal


def defaults() -> dict[str, int | float]:
    return {name: cast(int | float, spec.default) for name, spec in LIMITS.items()}


def in_force(overrides: Overrides, scope: str) -> dict[str, int | float]:
    """The values of `scope`: defaults, then the bot's overrides, then the scope's own."""
    values = defaults()
    for layer in (BOT, scope) if scope != BOT else (BOT,):
        for name, value in overrides.get(layer, {}).items():
            if name in LIMITS and not value_problem(LIMITS[name], value):
                values[name] = cast(int | float, value)
    return values


MICRO = Decimal("0.000001")


def limits_of(overrides: Overrides, scope: str) -> Limits:
    v = in_force(overrides, scope)
    amount = {k: Decimal(str(v[k])).quantize(MICRO, ROUND_DOWN) for k in LIMITS}
    return Limits(
        amount["max_shares"], amount["max_notional"], int(v["max_open_orders"]),
        amount["max_daily_loss"],
    )  # fmt: skip


def problems(overrides: Overrides) -> list[str]:
    """Every override that is not a known limit of the right type within its bounds."""
    out: list[str] = []
    for scope, values in overrides.items():
        for name, value in values.items():
            spec = LIMITS.get(name)
            if spec is None:
                out.append(f"{scope}.{name}: no such limit (limits: {', '.join(LIMITS)})")
            elif problem := value_problem(spec, value):
                out.append(f"{scope}.{name}: {problem}")
    return out
