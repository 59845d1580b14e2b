"""Wire shapes (exchange.wire) to the records the runner sees (exchange.types)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from exchange.errors import MalformedResponse
from exchange.slugs import INTERVALS, parse_slug
from exchange.types import (
    Book,
    Level,
    MarketWindow,
    Outcome,
    PlaceResult,
    PlaceStatus,
    Resolution,
    Side,
    VenueFill,
    VenueOrder,
    VenueOrderStatus,
)
from exchange.wire import (
    WireBook,
    WireLevel,
    WireMarket,
    WireOpenOrder,
    WirePostOrderResponse,
    WireTrade,
)

M = TypeVar("M", bound=BaseModel)

_PLACE_STATUSES: dict[str, PlaceStatus] = {
    "live": "live",
    "matched": "matched",
    "delayed": "delayed",
    "unmatched": "unmatched",
    "canceled": "canceled",
}
_ORDER_STATUSES: dict[str, VenueOrderStatus] = {
    "LIVE": "live",
    "DELAYED": "live",
    "MATCHED": "matched",
    "CANCELED": "canceled",
    "CANCELLED": "canceled",
    "CANCELED_MARKET_RESOLVED": "canceled",
    "UNMATCHED": "canceled",
    "INVALID": "canceled",
}


def parse(model: type[M], payload: Any, what: str) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise MalformedResponse(f"unreadable {what}: {exc.errors()[0]['msg']}") from exc


def side_of(text: str) -> Side:
    upper = text.upper()
    if upper == "BUY":
        return "BUY"
    if upper == "SELL":
        return "SELL"
    raise MalformedResponse(f"unknown side {text!r}")


def outcome_of(text: str) -> Outcome | None:
    lower = text.lower()
    if lower == "up":
        return "Up"
    if lower == "down":
        return "Down"
    return None


def order_status(text: str) -> VenueOrderStatus:
    key = text.upper().removeprefix("ORDER_STATUS_")
    if key in _ORDER_STATUSES:
        return _ORDER_STATUSES[key]
    if key.startswith("CANCEL"):
        return "canceled"
    raise MalformedResponse(f"unknown order status {text!r}")


def book(wire: WireBook) -> Book:
    def levels(raw: list[WireLevel], best_high: bool) -> tuple[Level, ...]:
        out = [Level(lvl.price, lvl.size) for lvl in raw if lvl.size > 0]
        return tuple(sorted(out, key=lambda lvl: lvl.price, reverse=best_high))

    try:
        timestamp = float(wire.timestamp) / 1000.0
    except ValueError:
        timestamp = 0.0
    return Book(
        token_id=wire.asset_id,
        bids=levels(wire.bids, best_high=True),
        asks=levels(wire.asks, best_high=False),
        tick_size=wire.tick_size,
        min_order_size=wire.min_order_size,
        timestamp=timestamp,
        market=wire.market,
    )


def window(market: WireMarket) -> MarketWindow | None:
    """A MarketWindow for an Up/Down market; None for any other market."""
    parts = parse_slug(market.market_slug)
    if parts is None:
        return None
    tokens = {outcome_of(t.outcome): t.token_id for t in market.tokens}
    if "Up" not in tokens or "Down" not in tokens:
        return None
    start_ts, interval_s = parts.start_ts, INTERVALS[parts.interval]
    end_ts = _iso_ts(market.end_date_iso) or start_ts + interval_s
    start_price = None
    if market.paper is not None:
        start_ts, end_ts = market.paper.start_ts, market.paper.end_ts
        interval_s, start_price = market.paper.interval_s, market.paper.start_price
    return MarketWindow(
        slug=market.market_slug,
        condition_id=market.condition_id,
        asset=parts.asset,
        interval=parts.interval,
        interval_s=interval_s,
        start_ts=start_ts,
        end_ts=end_ts,
        up_token=tokens["Up"],
        down_token=tokens["Down"],
        closed=market.closed,
        start_price=start_price,
    )


def resolution(market: WireMarket) -> Resolution | None:
    if not market.closed:
        return None
    winners = [outcome_of(t.outcome) for t in market.tokens if t.winner]
    if len(winners) != 1 or winners[0] is None:
        return None
    paper = market.paper
    return Resolution(
        slug=market.market_slug,
        winner=winners[0],
        start_price=paper.start_price if paper else None,
        end_price=paper.end_price if paper else None,
    )


def place_result(wire: WirePostOrderResponse, order_id: str) -> PlaceResult:
    status = _PLACE_STATUSES.get(wire.status.lower())
    if status is None:
        status = "live" if wire.success else "unmatched"
    return PlaceResult(
        order_id=wire.orderID or order_id,
        status=status,
        success=wire.success,
        error=wire.errorMsg,
        making_amount=wire.makingAmount,
        taking_amount=wire.takingAmount,
        trade_ids=tuple(wire.tradeIDs),
    )


def venue_order(wire: WireOpenOrder) -> VenueOrder:
    return VenueOrder(
        order_id=wire.id,
        token_id=wire.asset_id,
        market=wire.market,
        side=side_of(wire.side),
        price=wire.price,
        original_size=wire.original_size,
        size_matched=wire.size_matched,
        status=order_status(wire.status),
    )


def fills(trade: WireTrade, owner: str) -> list[VenueFill]:
    """Our fills in one trade: the taker side, or each of our maker orders in it."""
    try:
        ts = float(trade.match_time)
    except ValueError as exc:
        raise MalformedResponse(f"trade {trade.id}: bad match_time {trade.match_time!r}") from exc
    if trade.trader_side.upper() != "MAKER":
        return [
            VenueFill(
                fill_id=f"{trade.id}:{trade.taker_order_id}",
                order_id=trade.taker_order_id,
                token_id=trade.asset_id,
                market=trade.market,
                side=side_of(trade.side),
                price=trade.price,
                size=trade.size,
                ts=ts,
                fee=taker_fee(trade),
                status=trade_status(trade.status),
            )
        ]
    taker_side = side_of(trade.side)
    return [
        VenueFill(
            fill_id=f"{trade.id}:{maker.order_id}",
            order_id=maker.order_id,
            token_id=maker.asset_id or trade.asset_id,
            market=trade.market,
            side=side_of(maker.side) if maker.side else _opposite(taker_side),
            price=maker.price,
            size=maker.matched_amount,
            ts=ts,
            status=trade_status(trade.status),
        )
        for maker in trade.maker_orders
        if maker.owner == owner
    ]


def trade_status(text: str) -> str:
    """`MATCHED`, `MINED`, ... from the venue's spelling (`TRADE_STATUS_MATCHED`, `matched`)."""
    return text.strip().upper().removeprefix("TRADE_STATUS_")


def taker_fee(trade: WireTrade) -> Decimal:
    """What the taker paid: the venue's figure when it gives one (paper), else
    size x rate x p x (1 - p) from the trade's fee rate, in whole 1e-6 pUSD."""
    if trade.fee is not None:
        return trade.fee
    rate = trade.fee_rate_bps / 10_000
    fee = trade.size * rate * trade.price * (1 - trade.price)
    return fee.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


def fill_digest(fill_id: str) -> str:
    return hashlib.sha256(fill_id.encode()).hexdigest()[:12]


def _opposite(side: Side) -> Side:
    return "SELL" if side == "BUY" else "BUY"


def _iso_ts(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def decimal_or_none(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None
