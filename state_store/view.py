"""What a strategy sees and returns, besides `Intent`.

`decide(view)` gets a read-only `View` and returns a list of `Intent` (orders it
wants) and optionally `Remember` (values to keep in its Redis memory). These
types live outside `strategies/`, so a reloaded strategy still builds the very
classes the runner checks for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from state_store.models import Intent, Order, Outcome, Position
from state_store.param_spec import Param

__all__ = ["BookTop", "Decision", "MarketView", "Param", "Remember", "View"]

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class BookTop:
    """Best prices of one outcome token (None when that side of the book is empty)."""

    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    bid_size: Decimal = Decimal(0)
    ask_size: Decimal = Decimal(0)


@dataclass(frozen=True)
class MarketView:
    """One market window as a strategy sees it in one tick."""

    market: str
    asset: str
    interval: str
    start_ts: float
    end_ts: float
    now: float
    up: BookTop
    down: BookTop
    position: Position
    open_orders: tuple[Order, ...] = ()
    #: a streamed book of this market had no message for the configured time (`--book-stale-s`):
    #: its prices may be old; the runtime places no new entry (buy) here while it is
    stale: bool = False
    start_price: Decimal | None = None
    reference_price: Decimal | None = None
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal("5")
    #: taker fee per share: fee_rate * (p * (1 - p)) ** fee_exponent (makers pay none);
    #: from the window's terms (discovery), 0 when unknown
    fee_rate: Decimal = Decimal(0)
    fee_exponent: Decimal = Decimal(1)
    neg_risk: bool = False

    @property
    def time_left(self) -> float:
        return max(self.end_ts - self.now, 0.0)

    @property
    def duration(self) -> float:
        return self.end_ts - self.start_ts

    def book(self, outcome: Outcome) -> BookTop:
        return self.up if outcome == "Up" else self.down


@dataclass(frozen=True)
class View:
    """Everything one strategy may read in one tick. Nothing in it can be changed."""

    strategy: str
    now: float
    tick: int
    markets: tuple[MarketView, ...]
    params: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    memory: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Remember:
    """A strategy's request to keep string values in its memory hash (`nb:{B}:mem:<name>`)."""

    values: Mapping[str, str]


Decision = Intent | Remember
