"""JSON shapes of the CLOB REST API as the client reads them.

Lenient on purpose: unknown fields are ignored, numbers may come as strings
or numbers, optional fields default. The paper venue writes these shapes; the
client parses them with these models, so one definition keeps both honest.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

#: Pagination cursors are base64 offsets; "LTE=" (base64 of "-1") means "no more pages".
START_CURSOR = "MA=="
END_CURSOR = "LTE="


def encode_cursor(offset: int) -> str:
    return END_CURSOR if offset < 0 else base64.b64encode(str(offset).encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """Offset of a cursor; raises ValueError when it is not one of ours."""
    if not cursor:
        return 0
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc
    if not text.lstrip("-").isdigit() or len(text) > 12:
        raise ValueError(f"invalid cursor {cursor!r}")
    return int(text)


def _blank_is_zero(value: Any) -> Any:
    return "0" if value in ("", None) else value


Amount = Annotated[Decimal, BeforeValidator(_blank_is_zero)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)


class WireLevel(Wire):
    price: Decimal
    size: Decimal


class WireBook(Wire):
    market: str = ""
    asset_id: str
    timestamp: str = "0"  # unix milliseconds
    hash: str = ""
    bids: list[WireLevel] = []
    asks: list[WireLevel] = []
    min_order_size: Amount = Decimal(0)
    tick_size: Decimal = Decimal("0.01")
    neg_risk: bool = False
    last_trade_price: str | None = None


class WireToken(Wire):
    token_id: str
    outcome: str
    price: Amount | None = None
    winner: bool = False


class WirePaperWindow(Wire):
    """Paper venue extension on a market: the reference prices behind its resolution."""

    asset: str
    interval: str
    interval_s: int
    start_ts: int
    end_ts: int
    start_price: str | None = None
    end_price: str | None = None


class WireMarket(Wire):
    condition_id: str
    market_slug: str = ""
    tokens: list[WireToken] = []
    active: bool = True
    closed: bool = False
    end_date_iso: str | None = None
    minimum_order_size: Amount | None = None
    minimum_tick_size: Amount | None = None
    paper: WirePaperWindow | None = None


class WirePage(Wire):
    data: list[Any] = []
    next_cursor: str = END_CURSOR
    limit: int | None = None
    count: int | None = None


class WirePostOrderResponse(Wire):
    success: bool
    orderID: str = ""
    status: str = ""
    makingAmount: Amount = Decimal(0)
    takingAmount: Amount = Decimal(0)
    errorMsg: str = ""
    tradeIDs: list[str] = []


class WireOpenOrder(Wire):
    id: str
    status: str
    market: str = ""
    asset_id: str
    side: str
    original_size: Decimal
    size_matched: Amount = Decimal(0)
    price: Decimal


class WireMakerOrder(Wire):
    order_id: str
    owner: str = ""
    maker_address: str = ""
    matched_amount: Decimal
    price: Decimal
    side: str = ""
    asset_id: str = ""


class WireTrade(Wire):
    id: str
    taker_order_id: str = ""
    market: str = ""
    asset_id: str
    side: str
    size: Decimal
    price: Decimal
    match_time: str
    trader_side: str = "TAKER"
    owner: str = ""
    maker_orders: list[WireMakerOrder] = []
    fee_rate_bps: Decimal = Decimal(0)  # the taker's fee rate
    fee: Decimal | None = None  # paper extension: the fee the taker paid, exactly
    status: str = ""  # MATCHED, MINED, RETRYING, CONFIRMED, FAILED (or TRADE_STATUS_...)


class WireCancelResponse(Wire):
    canceled: list[str] = []
    not_canceled: dict[str, Any] = {}
