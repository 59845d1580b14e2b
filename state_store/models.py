"""Plain-data records of the state plane.

These are what a Redis hash holds, in Python form. Strategies see `Intent`
(and the view types in `state_store.view`); since these modules live outside
`strategies/`, their class identity survives every strategy reload.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

Outcome = Literal["Up", "Down"]
Side = Literal["BUY", "SELL"]
OrderType = Literal["GTC", "GTD", "FOK", "FAK"]
OUTCOMES: tuple[Outcome, Outcome] = ("Up", "Down")


class OrderStatus(StrEnum):
    """Order lifecycle: new -> submitted -> live -> partially_filled -> a terminal state."""

    NEW = "new"
    SUBMITTED = "submitted"
    LIVE = "live"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class WindowStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    SETTLED = "settled"


@dataclass(frozen=True)
class Intent:
    """What a strategy wants: one order, named by a key stable within its window.

    The key makes the order idempotent: the same strategy asking for the same
    key in the same window maps to the same client order id, however many ticks
    (or replicas) repeat the request.
    """

    key: str
    market: str
    outcome: Outcome
    side: Side
    price: Decimal
    size: Decimal
    order_type: OrderType = "GTC"


@dataclass(frozen=True)
class Window:
    """One market window (one Up/Down market): its timing, tokens and outcome."""

    market: str
    asset: str
    interval: str
    start_ts: float
    end_ts: float
    condition_id: str
    up_token: str
    down_token: str
    status: WindowStatus = WindowStatus.OPEN
    start_price: str = ""  # the strike: the reference price at start_ts (recorded once)
    winner: str = ""
    end_price: str = ""
    strike_source: str = ""  # "stream" (the price stream) or "venue" (the venue said it)
    strike_ts: float = 0.0  # the timestamp of the price taken as the strike (stream)
    strike_missing: str = ""  # why no strike could be captured ("" when it was, or not yet)
    #: the market's terms, from discovery (Gamma `/markets/slug/{slug}`); None/"" when the
    #: window was recorded from a venue listing that does not carry them
    tick_size: Decimal | None = None
    min_order_size: Decimal | None = None
    fee_rate: Decimal | None = None  # feeSchedule.rate (0 when fees are off)
    fee_exponent: Decimal | None = None
    neg_risk: bool = False
    terms_source: str = ""  # "gamma" once discovery recorded the terms

    def token_for(self, outcome: Outcome) -> str:
        return self.up_token if outcome == "Up" else self.down_token

    def outcome_of(self, token_id: str) -> Outcome:
        if token_id == self.up_token:
            return "Up"
        if token_id == self.down_token:
            return "Down"
        raise ValueError(f"token {token_id} is not an outcome of {self.market}")


@dataclass(frozen=True)
class Position:
    """Net shares per outcome and net cash of one market, from its unique fills."""

    market: str
    up_shares: Decimal = Decimal(0)
    down_shares: Decimal = Decimal(0)
    cash: Decimal = Decimal(0)
    buy_notional: Decimal = Decimal(0)
    sell_notional: Decimal = Decimal(0)
    fill_count: int = 0
    settled: bool = False
    payout: Decimal = Decimal(0)
    realized_pnl: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)  # every fill's fee, already taken out of `cash`

    def shares(self, outcome: Outcome) -> Decimal:
        return self.up_shares if outcome == "Up" else self.down_shares


@dataclass(frozen=True)
class Order:
    client_order_id: str
    market: str
    strategy: str
    intent_key: str
    outcome: Outcome
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    order_type: OrderType
    status: OrderStatus
    filled: Decimal = Decimal(0)
    venue_order_id: str = ""
    error: str = ""
    replica: str = ""
    fence: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def remaining(self) -> Decimal:
        return max(self.size - self.filled, Decimal(0))


@dataclass(frozen=True)
class Fill:
    """One execution of (part of) one of our orders, as the venue reported it."""

    fill_id: str
    client_order_id: str
    market: str
    outcome: Outcome
    side: Side
    price: Decimal
    size: Decimal
    ts: float = 0.0
    venue_order_id: str = ""
    fee: Decimal = Decimal(0)  # pUSD paid to the venue for this fill (takers)
    #: the venue trade's settlement status (MATCHED, MINED, RETRYING, CONFIRMED, FAILED;
    #: "" when the venue did not say): a fill counts from MATCHED, is unconfirmed until
    #: CONFIRMED, and a FAILED one is reversed (`reverse_fill.lua`)
    trade_status: str = ""


@dataclass(frozen=True)
class MarketSnapshot:
    """Everything the store knows about one market, read in one round trip."""

    market: str
    window: Window | None
    position: Position
    open_orders: tuple[Order, ...] = field(default_factory=tuple)


def derive_client_order_id(
    bot: str, strategy: str, market: str, window_start: float, intent_key: str
) -> str:
    """Deterministic client order id: same inputs, same id, on every replica and retry."""
    material = "\x1f".join([bot, strategy, market, f"{window_start:.0f}", intent_key])
    return "nb" + hashlib.sha256(material.encode()).hexdigest()[:30]


def adopted_client_order_id(bot: str, venue_order_id: str) -> str:
    """Client order id for a venue order Redis did not know (adopted after a data loss)."""
    material = "\x1f".join([bot, "adopted", venue_order_id])
    return "nb" + hashlib.sha256(material.encode()).hexdigest()[:30]
