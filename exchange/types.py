"""Plain records that cross the venue boundary: what the runner reads and sends.

Prices and sizes are `Decimal` (never float): a tick of 0.01 must compare
exactly. Timestamps are venue unix seconds (the paper venue may run its
clock faster than wall time; see `Venue.server_time`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Side = Literal["BUY", "SELL"]
OrderType = Literal["GTC", "GTD", "FOK", "FAK"]
Outcome = Literal["Up", "Down"]
#: POST /order answers: resting, (partly) matched at once, delayed by the venue,
#: or not placed. `canceled` is what a re-post of an already canceled order reports.
PlaceStatus = Literal["live", "matched", "delayed", "unmatched", "canceled"]
#: An order as the venue keeps it: resting, fully matched, or done without a full fill.
VenueOrderStatus = Literal["live", "matched", "canceled"]

SIDES: tuple[Side, ...] = ("BUY", "SELL")
ORDER_TYPES: tuple[OrderType, ...] = ("GTC", "GTD", "FOK", "FAK")
OUTCOMES: tuple[Outcome, ...] = ("Up", "Down")


@dataclass(frozen=True)
class MarketWindow:
    """One recurring Up/Down market: `btc-updown-5m-<start>` and its two tokens."""

    slug: str
    condition_id: str
    asset: str
    interval: str  # the label in the slug: "5m" or "15m"
    interval_s: int  # real length in venue seconds (a paper venue may shorten it)
    start_ts: int
    end_ts: int
    up_token: str
    down_token: str
    closed: bool
    start_price: str | None  # reference price at start_ts, when the venue tells it

    def token(self, outcome: Outcome) -> str:
        return self.up_token if outcome == "Up" else self.down_token

    def outcome_of(self, token_id: str) -> Outcome | None:
        if token_id == self.up_token:
            return "Up"
        if token_id == self.down_token:
            return "Down"
        return None


@dataclass(frozen=True)
class Level:
    price: Decimal
    size: Decimal


@dataclass(frozen=True)
class Book:
    """An order book snapshot. Levels are kept best-first; best prices are computed, not assumed."""

    token_id: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    tick_size: Decimal
    min_order_size: Decimal
    timestamp: float  # venue unix seconds
    market: str = ""  # condition id

    @property
    def best_bid(self) -> Decimal | None:
        return max((lvl.price for lvl in self.bids), default=None)

    @property
    def best_ask(self) -> Decimal | None:
        return min((lvl.price for lvl in self.asks), default=None)

    @property
    def mid(self) -> Decimal | None:
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return None
        return (bid + ask) / 2


@dataclass(frozen=True)
class OrderRequest:
    """What the runner wants placed. The client order id makes the venue order id deterministic."""

    client_order_id: str
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    order_type: OrderType = "GTC"
    expiration: int = 0  # venue unix seconds; GTD only, 0 otherwise
    post_only: bool = False  # GTC/GTD only: rest or be rejected, never take


@dataclass(frozen=True)
class PlaceResult:
    order_id: str
    status: PlaceStatus
    success: bool
    error: str
    making_amount: Decimal  # what we gave: USDC for a BUY, shares for a SELL
    taking_amount: Decimal  # what we got: shares for a BUY, USDC for a SELL
    trade_ids: tuple[str, ...] = ()  # trades made at placement


@dataclass(frozen=True)
class VenueOrder:
    order_id: str
    token_id: str
    market: str  # condition id
    side: Side
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    status: VenueOrderStatus

    @property
    def is_open(self) -> bool:
        return self.status == "live"

    @property
    def remaining(self) -> Decimal:
        return self.original_size - self.size_matched


@dataclass(frozen=True)
class VenueFill:
    """One fill of one of our orders: one per (trade, our order). `fill_id` never changes."""

    fill_id: str
    order_id: str
    token_id: str
    market: str  # condition id
    side: Side
    price: Decimal
    size: Decimal
    ts: float  # venue unix seconds of the match
    fee: Decimal = Decimal(0)  # pUSD our side paid (takers; makers pay none)
    #: the trade's settlement status: MATCHED, MINED, RETRYING, CONFIRMED or FAILED ("" when
    #: the venue does not say). A FAILED trade is no fill: the runner reverses it if applied.
    status: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"


@dataclass(frozen=True)
class Resolution:
    slug: str
    winner: Outcome
    start_price: str | None
    end_price: str | None


@dataclass(frozen=True)
class ReferencePrice:
    """The price of the underlying (paper venue extension)."""

    asset: str
    price: Decimal
    ts: float
