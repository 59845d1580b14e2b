"""What a strategy call produced, and the runner's checks of it (a strategy's output is untrusted).

The strategies run in the strategy host (runner.host); the runner checks what
comes back (`check_decisions`) and records a fault as a failure of that
strategy in that tick, never a dead loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from state_store.codec import to_micro
from state_store.models import OUTCOMES, Intent
from state_store.view import MarketView, Remember, View

ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StrategyOutcome:
    """What one strategy produced in one tick: intents, memory updates, or why not."""

    name: str
    intents: tuple[Intent, ...] = ()
    remember: Mapping[str, str] = field(default_factory=dict)
    error: str = ""
    overrun: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.error)


def check_decisions(view: View, decisions: object) -> tuple[list[Intent], dict[str, str]]:
    """Intents and memory values from decide's result; ValueError on a broken invariant."""
    if not isinstance(decisions, Sequence | tuple) or isinstance(decisions, str | bytes):
        raise ValueError(f"decide returned {type(decisions).__name__}, not a list")
    markets = {m.market: m for m in view.markets}
    intents: list[Intent] = []
    remember: dict[str, str] = {}
    for item in decisions:
        if isinstance(item, Remember):
            remember.update({str(k): str(v) for k, v in item.values.items()})
        elif isinstance(item, Intent):
            check_intent(item, markets)
            intents.append(item)
        else:
            raise ValueError(f"decide returned a {type(item).__name__}, not an Intent or Remember")
    return intents, remember


def check_intent(intent: Intent, markets: Mapping[str, MarketView]) -> None:
    market = markets.get(intent.market)
    if market is None:
        raise ValueError(f"intent {intent.key!r} names market {intent.market!r} not in the view")
    if intent.outcome not in OUTCOMES or intent.side not in ("BUY", "SELL"):
        raise ValueError(f"intent {intent.key!r}: bad outcome/side {intent.outcome}/{intent.side}")
    if intent.order_type not in ORDER_TYPES or not isinstance(intent.key, str) or not intent.key:
        raise ValueError(f"intent {intent.key!r}: bad key or order type {intent.order_type!r}")
    price, size = intent.price, intent.size
    for name, value in (("price", price), ("size", size)):
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"intent {intent.key!r}: {name} {value!r} is not a finite Decimal")
        to_micro(value)  # AmountError (a ValueError) past 6 decimals
    if not (Decimal(0) < price < Decimal(1)):
        raise ValueError(f"intent {intent.key!r}: price {price} outside (0, 1)")
    if price % market.tick_size != 0:
        raise ValueError(f"intent {intent.key!r}: price {price} off tick {market.tick_size}")
    if size < market.min_order_size:
        raise ValueError(f"intent {intent.key!r}: size {size} below {market.min_order_size}")
