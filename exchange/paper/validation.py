"""Checks of a POST /order body that do not need the venue's state."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from exchange.paper.bodies import PostOrderRequest
from exchange.paper.errors import bad_request
from exchange.signing import order_amounts, paper_order_id
from exchange.types import Side

MAX_SIZE = Decimal(10_000_000)
SIZE_STEP = Decimal("0.01")


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


def validate_order(
    body: PostOrderRequest, owner: str, tick: Decimal, min_size: Decimal, now: float
) -> ValidOrder:
    """The order, or ApiError(400) saying what is wrong with it."""
    order = body.order
    order_id = signed_order_id(body, owner)
    price = _decimal(order.price, "price")
    size = _decimal(order.size, "size")
    _check_price(price, tick)
    _check_size(size, min_size)
    _check_amounts(order.side, price, size, order.makerAmount, order.takerAmount)
    expiration = _check_expiration(order.expiration, body.orderType, now)
    if not _is_uint(order.feeRateBps) or int(order.feeRateBps) > 10_000:
        raise bad_request("invalid feeRateBps")
    return ValidOrder(
        order_id=order_id,
        owner=body.owner,
        maker=order.maker,
        token_id=order.tokenId,
        side=order.side,
        price=price,
        size=size,
        order_type=body.orderType,
        expiration=expiration,
    )


def signed_order_id(body: PostOrderRequest, owner: str) -> str:
    """The order id, once the body is known to be signed by the request's owner."""
    if body.owner != owner:
        raise bad_request("the order owner must be the API key of the request")
    order_id = paper_order_id(body.order.model_dump(), body.owner)
    if body.order.signature != order_id:
        raise bad_request("invalid order signature")
    return order_id


def _is_uint(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _decimal(text: str, name: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise bad_request(f"invalid {name} {text!r}") from None
    if not value.is_finite():
        raise bad_request(f"invalid {name} {text!r}")
    return value


def _check_price(price: Decimal, tick: Decimal) -> None:
    if not tick <= price <= 1 - tick:
        raise bad_request(f"invalid price {price}: must be within [{tick}, {1 - tick}]")
    if price % tick != 0:
        raise bad_request(f"invalid price {price}: not a multiple of the tick size {tick}")


def _check_size(size: Decimal, min_size: Decimal) -> None:
    if size < min_size:
        raise bad_request(f"invalid size {size}: lower than the minimum order size {min_size}")
    if size > MAX_SIZE:
        raise bad_request(f"invalid size {size}: above {MAX_SIZE}")
    if size % SIZE_STEP != 0:
        raise bad_request(f"invalid size {size}: at most two decimals")


def _check_amounts(side: Side, price: Decimal, size: Decimal, maker: str, taker: str) -> None:
    if not (_is_uint(maker) and _is_uint(taker)):
        raise bad_request("invalid makerAmount/takerAmount: expected integer strings")
    if (int(maker), int(taker)) != order_amounts(side, price, size):
        raise bad_request("makerAmount/takerAmount do not match price and size")


def _check_expiration(text: str, order_type: str, now: float) -> int:
    if not _is_uint(text) or len(text) > 12:
        raise bad_request(f"invalid expiration {text!r}")
    expiration = int(text)
    if order_type == "GTD":
        if expiration <= now:
            raise bad_request("invalid expiration: a GTD order must expire in the future")
    elif expiration != 0:
        raise bad_request(f"invalid expiration: must be 0 for {order_type} orders")
    return expiration
