"""Conversions between Python records and flat Redis hash fields.

Amounts travel to Lua as integer micro-units (1e-6), so scripts add exact
integers; hashes store readable decimal strings that `redis-cli` shows as-is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from state_store.models import (
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Outcome,
    Position,
    Side,
    Window,
    WindowStatus,
)

MICRO = Decimal(1_000_000)
MAX_MICRO = 2**53 - 1


class AmountError(ValueError):
    """An amount with more precision than a micro-unit, or too large to add exactly."""


def to_micro(amount: Decimal) -> int:
    scaled = amount * MICRO
    if scaled != scaled.to_integral_value():
        raise AmountError(f"{amount} has more than 6 decimal places")
    value = int(scaled)
    if abs(value) > MAX_MICRO:
        raise AmountError(f"{amount} is too large")
    return value


def dec(raw: str | None, default: str = "0") -> Decimal:
    return Decimal(raw if raw not in (None, "") else default)


def window_fields(window: Window) -> dict[str, str]:
    return {
        "market": window.market,
        "asset": window.asset,
        "interval": window.interval,
        "start_ts": f"{window.start_ts:.3f}",
        "end_ts": f"{window.end_ts:.3f}",
        "condition_id": window.condition_id,
        "up_token": window.up_token,
        "down_token": window.down_token,
        "start_price": window.start_price,
    }


def window_terms(window: Window) -> dict[str, str]:
    """The market terms of a window ("" for a term it does not know)."""
    return {
        "tick_size": plain(window.tick_size) if window.tick_size is not None else "",
        "min_order_size": plain(window.min_order_size) if window.min_order_size is not None else "",
        "fee_rate": plain(window.fee_rate) if window.fee_rate is not None else "",
        "fee_exponent": plain(window.fee_exponent) if window.fee_exponent is not None else "",
        "neg_risk": ("1" if window.neg_risk else "0") if window.terms_source else "",
        "terms_source": window.terms_source,
    }


def _dec_or_none(raw: str | None) -> Decimal | None:
    return Decimal(raw) if raw else None


def window_from(fields: dict[str, str]) -> Window | None:
    if not fields:
        return None
    return Window(
        market=fields["market"],
        asset=fields.get("asset", ""),
        interval=fields.get("interval", ""),
        start_ts=float(fields.get("start_ts", 0)),
        end_ts=float(fields.get("end_ts", 0)),
        condition_id=fields.get("condition_id", ""),
        up_token=fields.get("up_token", ""),
        down_token=fields.get("down_token", ""),
        status=WindowStatus(fields.get("status", "open")),
        start_price=fields.get("start_price", ""),
        winner=fields.get("winner", ""),
        end_price=fields.get("end_price", ""),
        strike_source=fields.get("strike_source", ""),
        strike_ts=float(fields.get("strike_ts") or 0),
        strike_missing=fields.get("strike_missing", ""),
        tick_size=_dec_or_none(fields.get("tick_size")),
        min_order_size=_dec_or_none(fields.get("min_order_size")),
        fee_rate=_dec_or_none(fields.get("fee_rate")),
        fee_exponent=_dec_or_none(fields.get("fee_exponent")),
        neg_risk=fields.get("neg_risk") == "1",
        terms_source=fields.get("terms_source", ""),
    )


def position_from(market: str, fields: dict[str, str]) -> Position:
    return Position(
        market=market,
        up_shares=dec(fields.get("up_shares")),
        down_shares=dec(fields.get("down_shares")),
        cash=dec(fields.get("cash")),
        buy_notional=dec(fields.get("buy_notional")),
        sell_notional=dec(fields.get("sell_notional")),
        fill_count=int(fields.get("fill_count", 0)),
        fees=dec(fields.get("fees")),
        settled=fields.get("settled") == "1",
        payout=dec(fields.get("payout")),
        realized_pnl=dec(fields.get("realized_pnl")),
    )


def order_from(fields: dict[str, str]) -> Order | None:
    if not fields:
        return None
    return Order(
        client_order_id=fields["client_order_id"],
        market=fields["market"],
        strategy=fields.get("strategy", ""),
        intent_key=fields.get("intent_key", ""),
        outcome=cast(Outcome, fields["outcome"]),
        token_id=fields["token_id"],
        side=cast(Side, fields["side"]),
        price=dec(fields["price"]),
        size=dec(fields["size"]),
        order_type=cast(OrderType, fields.get("order_type", "GTC")),
        status=OrderStatus(fields["status"]),
        filled=dec(fields.get("filled")),
        venue_order_id=fields.get("venue_order_id", ""),
        error=fields.get("error", ""),
        replica=fields.get("replica", ""),
        fence=int(fields.get("fence", 0) or 0),
        created_at=float(fields.get("created_at", 0) or 0),
        updated_at=float(fields.get("updated_at", 0) or 0),
    )


def fill_from(fields: dict[str, str]) -> Fill | None:
    if not fields:
        return None
    return Fill(
        fill_id=fields["fill_id"],
        client_order_id=fields["client_order_id"],
        market=fields["market"],
        outcome=cast(Outcome, fields["outcome"]),
        side=cast(Side, fields["side"]),
        price=dec(fields["price"]),
        size=dec(fields["size"]),
        ts=float(fields.get("ts", 0) or 0),
        venue_order_id=fields.get("venue_order_id", ""),
        fee=dec(fields.get("fee")),
        trade_status=fields.get("trade_status", ""),
    )


def plain(value: Decimal) -> str:
    """A decimal as a plain string (no exponent), for hashes and JSON."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
