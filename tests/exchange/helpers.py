"""Small helpers shared by the exchange tests."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from exchange import MarketWindow, OrderRequest, PaperSigner, Venue
from exchange.auth import DEFAULT_OWNER
from exchange.eip712 import Wallet, paper_account, sign_unsigned, unsigned_order
from exchange.types import OrderType, Side


def live_window(venue: Venue, asset: str = "btc", interval: str = "5m") -> MarketWindow:
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
    return PaperSigner(owner).sign(req).post_payload(owner)


def raw_order_body(req: OrderRequest, owner: str = DEFAULT_OWNER, **changes: Any) -> dict[str, Any]:
    """A validly signed body whose signed fields differ from what the signer would choose."""
    wallet = Wallet.eoa(paper_account(owner))
    unsigned = replace(unsigned_order(wallet, req, tick=Decimal("0.01")), **changes)
    return sign_unsigned(wallet, unsigned).post_payload(owner)
