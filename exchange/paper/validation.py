"""Checks of a POST /order body: its V2 signature, then the values it encodes.

A V2 order has no price or size field: they follow from the signed amounts
(1e-6 units). A BUY gives `makerAmount` pUSD for `takerAmount` shares (price =
maker / taker); a SELL the reverse. GTC/GTD prices must sit on the tick grid;
FOK/FAK amounts may encode a price a hair off the grid (the SDK rounds the
shares of a market BUY to 4 decimals), so only their bounds are checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange.eip712 import (
    MAINNET,
    Contracts,
    InvalidOrderSignature,
    domain_for,
    order_hash,
    recover_signer,
    unsigned_from_body,
)
from exchange.paper.bodies import PostOrderRequest
from exchange.paper.errors import bad_request
from exchange.types import Side

MAX_SIZE = Decimal(10_000_000)
UNIT = Decimal(1_000_000)
TWO_DP = 10_000  # 1e-6 units in 0.01
FOUR_DP = 100
IMMEDIATE = ("FOK", "FAK")
POST_ONLY_TYPES = ("GTC", "GTD")


@dataclass(frozen=True)
class SignedBody:
    order_id: str
    signer: str  # the EOA that signed (the key's owner, for a deposit wallet)


@dataclass(frozen=True)
class ValidOrder:
    order_id: str
    owner: str
    maker: str
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    order_type: str
    expiration: int
    post_only: bool


def signed_order(
    body: PostOrderRequest,
    owner: str,
    owner_address: str | None,
    neg_risk: bool,
    contracts: Contracts = MAINNET,
) -> SignedBody:
    """The order id and signer, once the body is known to be signed for the request's owner.

    `owner_address`: the address the venue issued the owner's API key to, if it
    did (then the order must be signed by that key); None for open paper owners.
    """
    if body.owner != owner:
        raise bad_request("the order owner must be the API key of the request")
    order = body.order
    for name in ("makerAmount", "takerAmount", "timestamp", "expiration"):
        text = getattr(order, name)
        if not _is_uint(text) or len(text) > 40:
            raise bad_request(f"invalid {name} {text!r}: expected an integer string")
    if not (_is_bytes32(order.metadata) and _is_bytes32(order.builder)):
        raise bad_request("invalid metadata/builder: expected 0x-prefixed bytes32")
    domain = domain_for(order.tokenId, neg_risk, contracts)
    try:
        unsigned = unsigned_from_body(order.model_dump(), body.orderType, domain, contracts)
        signer = recover_signer(unsigned, order.signature, contracts)
    except (InvalidOrderSignature, ValueError) as exc:
        raise bad_request(f"invalid order signature: {exc}") from None
    if owner_address is not None and signer.lower() != owner_address.lower():
        raise bad_request("invalid order signature: not signed by the API key's address")
    return SignedBody(order_id=order_hash(unsigned), signer=signer)


def validate_order(
    body: PostOrderRequest, signed: SignedBody, tick: Decimal, min_size: Decimal, now: float
) -> ValidOrder:
    """The order's values, or ApiError(400) saying what is wrong with them."""
    order = body.order
    maker, taker = int(order.makerAmount), int(order.takerAmount)
    shares, usdc = (taker, maker) if order.side == "BUY" else (maker, taker)
    if shares <= 0:
        raise bad_request(f"invalid size 0: lower than the minimum order size {min_size}")
    market_buy = order.side == "BUY" and body.orderType in IMMEDIATE
    size = Decimal(shares) / UNIT
    price = Decimal(usdc) / Decimal(shares)
    _check_price(price, tick, on_grid=body.orderType not in IMMEDIATE)
    _check_size(size, shares, min_size, FOUR_DP if market_buy else TWO_DP)
    if usdc % (TWO_DP if market_buy else FOUR_DP):
        raise bad_request(f"invalid amounts: the pUSD amount {usdc} has too many decimals")
    if body.postOnly and body.orderType not in POST_ONLY_TYPES:
        raise bad_request("post-only orders are only supported for GTC and GTD order types")
    expiration = _check_expiration(order.expiration, body.orderType, now)
    return ValidOrder(
        order_id=signed.order_id,
        owner=body.owner,
        maker=order.maker,
        token_id=order.tokenId,
        side=order.side,
        price=price,
        size=size,
        order_type=body.orderType,
        expiration=expiration,
        post_only=body.postOnly,
    )


def _is_uint(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _is_bytes32(text: str) -> bool:
    body = text[2:] if text.startswith(("0x", "0X")) else ""
    return len(body) == 64 and all(c in "0123456789abcdefABCDEF" for c in body)


def _check_price(price: Decimal, tick: Decimal, on_grid: bool) -> None:
    if not tick <= price <= 1 - tick:
        raise bad_request(f"invalid price {price}: must be within [{tick}, {1 - tick}]")
    if on_grid and price % tick != 0:
        raise bad_request(f"invalid price {price}: not a multiple of the tick size {tick}")


def _check_size(size: Decimal, shares: int, min_size: Decimal, step: int) -> None:
    if size < min_size:
        raise bad_request(f"invalid size {size}: lower than the minimum order size {min_size}")
    if size > MAX_SIZE:
        raise bad_request(f"invalid size {size}: above {MAX_SIZE}")
    if shares % step:
        decimals = "two" if step == TWO_DP else "four"
        raise bad_request(f"invalid size {size}: at most {decimals} decimals")


def _check_expiration(text: str, order_type: str, now: float) -> int:
    if len(text) > 12:
        raise bad_request(f"invalid expiration {text!r}")
    expiration = int(text)
    if order_type == "GTD":
        if expiration <= now:
            raise bad_request("invalid expiration: a GTD order must expire in the future")
    elif expiration != 0:
        raise bad_request(f"invalid expiration: must be 0 for {order_type} orders")
    return expiration
