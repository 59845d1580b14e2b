"""Small helpers shared by the exchange tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange import ClobClient, MarketWindow, OrderRequest, PaperSigner
from exchange.auth import DEFAULT_OWNER
from exchange.types import OrderType, Side


def live_window(venue: ClobClient, asset: str = "btc", interval: str = "5m") -> MarketWindow:
    now = venue.server_time()
    found = [
        w
        for w in venue.list_windows()
        if w.asset == asset and w.interval == interval and w.start_ts <= now < w.end_ts
    ]
    assert len(found) == 1, found
    return found[0]


def order(
    coid: str,
    token: str,
    side: Side,
    price: str | Decimal | None,
    size: str | Decimal = "10",
    order_type: OrderType = "GTC",
    expiration: int = 0,
) -> OrderRequest:
    assert price is not None, "no price to order at (empty book side?)"
    return OrderRequest(coid, token, side, Decimal(price), Decimal(size), order_type, expiration)


def order_body(req: OrderRequest, owner: str = DEFAULT_OWNER) -> dict[str, Any]:
    """The POST /order body the client would send."""
    signed = PaperSigner(owner).sign(req)
    return {"order": signed.body, "owner": owner, "orderType": req.order_type}
