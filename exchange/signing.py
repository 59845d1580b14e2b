"""Order signing: turn an `OrderRequest` into the POST /order `order` object and its id.

On the real CLOB the order id is the EIP-712 hash of the signed order, so the
signer knows it before posting and a re-post of the same signed order cannot
make a second order. Everything here keeps that property: the salt is derived
from the client order id, so the same request always signs to the same body
and the same id.

`PaperSigner` does no cryptography: its id is a sha256 over the canonical
fields (salt and owner included) and the paper venue recomputes it. The body
also carries explicit `price` and `size` strings for the paper venue.
`LiveSigner` is the seam for real EIP-712 signing, a later issue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Protocol

from exchange.types import OrderRequest, Side

#: Collateral (USDC) and conditional tokens both use 6 decimals on chain.
AMOUNT_SCALE = Decimal(1_000_000)
ZERO_ADDRESS = "0x" + "0" * 40
#: Fields of the `order` object hashed into a paper order id, in this order.
PAPER_ID_FIELDS: tuple[str, ...] = (
    "salt",
    "maker",
    "signer",
    "taker",
    "tokenId",
    "makerAmount",
    "takerAmount",
    "expiration",
    "nonce",
    "feeRateBps",
    "side",
    "signatureType",
    "price",
    "size",
)


@dataclass(frozen=True)
class SignedOrder:
    order_id: str
    body: dict[str, Any]  # the `order` object of POST /order


class OrderSigner(Protocol):
    """Signs orders for one owner (the API key that POST /order names as `owner`)."""

    @property
    def owner(self) -> str: ...

    def sign(self, req: OrderRequest) -> SignedOrder:
        """Deterministic: the same request always gives the same body and order id."""
        ...


def canonical_decimal(value: Decimal) -> str:
    """One spelling per value: 0.5 and 0.50 both become "0.5", 100 stays "100"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def salt_for(client_order_id: str) -> int:
    """A salt derived from the client order id, below 2**52 like the SDKs' random salts."""
    digest = hashlib.sha256(b"neverblink-salt:" + client_order_id.encode()).hexdigest()
    return int(digest[:13], 16)


def order_amounts(side: Side, price: Decimal, size: Decimal) -> tuple[int, int]:
    """(makerAmount, takerAmount) in 1e-6 units: a BUY gives USDC for shares, a SELL the reverse."""
    shares = int((size * AMOUNT_SCALE).to_integral_value(rounding=ROUND_DOWN))
    usdc = int((price * size * AMOUNT_SCALE).to_integral_value(rounding=ROUND_DOWN))
    return (usdc, shares) if side == "BUY" else (shares, usdc)


def paper_order_id(order: Mapping[str, Any], owner: str) -> str:
    """The paper venue's order id: sha256 over the canonical fields and the owner."""
    lines = [f"{name}={order.get(name)}" for name in PAPER_ID_FIELDS]
    lines.append(f"owner={owner}")
    return "0x" + hashlib.sha256("\n".join(lines).encode()).hexdigest()


def paper_address(owner: str) -> str:
    return "0x" + hashlib.sha256(b"neverblink-paper-address:" + owner.encode()).hexdigest()[:40]


class PaperSigner:
    """Signs for the paper venue: no keys, no crypto, same determinism as the real thing."""

    def __init__(self, owner: str, address: str | None = None) -> None:
        if not owner:
            raise ValueError("owner must be non-empty")
        self._owner = owner
        self.address = address or paper_address(owner)

    @property
    def owner(self) -> str:
        return self._owner

    def sign(self, req: OrderRequest) -> SignedOrder:
        maker_amount, taker_amount = order_amounts(req.side, req.price, req.size)
        body: dict[str, Any] = {
            "salt": salt_for(req.client_order_id),
            "maker": self.address,
            "signer": self.address,
            "taker": ZERO_ADDRESS,
            "tokenId": req.token_id,
            "makerAmount": str(maker_amount),
            "takerAmount": str(taker_amount),
            "expiration": str(req.expiration),
            "nonce": "0",
            "feeRateBps": "0",
            "side": req.side,
            "signatureType": 0,
            "price": canonical_decimal(req.price),
            "size": canonical_decimal(req.size),
        }
        order_id = paper_order_id(body, self._owner)
        body["signature"] = order_id  # the paper venue checks it equals the recomputed id
        return SignedOrder(order_id=order_id, body=body)


class LiveSigner:
    """Seam for EIP-712 signing against the real CLOB exchange contract. Not implemented.

    A later issue wires a maintained signer (e.g. py-clob-client's order
    builder); cryptography is not hand-rolled here. Until then every call raises.
    """

    def __init__(self, owner: str, **wallet: Any) -> None:
        self._owner = owner
        self._wallet = wallet

    @property
    def owner(self) -> str:
        return self._owner

    def sign(self, req: OrderRequest) -> SignedOrder:
        raise NotImplementedError(
            "LiveSigner: EIP-712 order signing for the real Polymarket CLOB is not implemented "
            "yet (a later issue); use PaperSigner against the paper venue"
        )
