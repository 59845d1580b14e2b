"""Request bodies of the paper venue, validated by FastAPI (failures become 400s)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_STR = 128


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STR)


class OrderFields(_Body):
    """The signed `order` object of POST /order, plus the paper venue's `price` and `size`."""

    salt: int = Field(ge=0, lt=2**256)
    maker: str
    signer: str
    taker: str
    tokenId: str
    makerAmount: str
    takerAmount: str
    expiration: str
    nonce: str
    feeRateBps: str
    side: Literal["BUY", "SELL"]
    signatureType: int = Field(ge=0, le=2)
    signature: str
    price: str
    size: str


class PostOrderRequest(_Body):
    order: OrderFields
    owner: str
    orderType: Literal["GTC", "GTD", "FOK", "FAK"]


class CancelRequest(_Body):
    orderID: str


class BookRequest(_Body):
    token_id: str
    side: str | None = None
