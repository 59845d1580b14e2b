"""Order signing: turn an `OrderRequest` into the POST /order body and its order id.

Orders are CLOB V2 orders signed with EIP-712 (see `exchange.eip712`, which
uses polymarket-client and eth-account for all of it). The order id is the
EIP-712 hash of the order, known before posting; the salt and timestamp are
derived from the client order id, so the same request always signs to the
same body and the same id, and a re-post cannot make a second order.

`PaperSigner` signs with a well-known throwaway key derived from the owner
name (`eip712.paper_account`): real signatures the paper venue verifies, no
secret to keep. `LiveSigner` signs with the operator's wallet.

The SDK (a few seconds of imports on a busy host) is imported at the first
signature, not with this module: a runner installs its signal handlers first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from exchange.types import OrderRequest

if TYPE_CHECKING:
    from exchange.eip712 import Contracts, V2Order, Wallet

__all__ = [
    "DEFAULT_TICK",
    "LiveSigner",
    "OrderSigner",
    "PaperSigner",
    "SignedOrder",
    "canonical_decimal",
    "salt_for",
]

DEFAULT_TICK = Decimal("0.01")


@dataclass(frozen=True)
class SignedOrder:
    order_id: str
    body: dict[str, Any]  # the `order` object of POST /order
    v2: V2Order = field(repr=False, compare=False)

    def post_payload(self, owner: str) -> dict[str, Any]:
        """The POST /order body (one item of POST /orders) as the SDK builds it."""
        return self.v2.post_payload(owner)


class OrderSigner(Protocol):
    """Signs orders for one owner (the API key that POST /order names as `owner`)."""

    @property
    def owner(self) -> str: ...

    def sign(self, req: OrderRequest) -> SignedOrder:
        """Deterministic: the same request always gives the same body and order id."""
        ...


def salt_for(client_order_id: str) -> int:
    """A salt derived from the client order id, below 2**52 like the SDK's random salts."""
    digest = hashlib.sha256(b"neverblink-salt:" + client_order_id.encode()).hexdigest()
    return int(digest[:13], 16)


def canonical_decimal(value: Decimal) -> str:
    """One spelling per value: 0.5 and 0.50 both become "0.5", 100 stays "100"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class LiveSigner:
    """Signs V2 orders with a wallet for one API key.

    `tick_of(token_id)` and `neg_risk_of(token_id)` give the market's metadata
    (the live venue passes its cached lookups); the domain follows from them.
    """

    def __init__(
        self,
        owner: str,
        wallet: Wallet,
        *,
        tick_of: Callable[[str], Decimal] | None = None,
        neg_risk_of: Callable[[str], bool] | None = None,
        contracts: Contracts | None = None,  # None: mainnet's
    ) -> None:
        if not owner:
            raise ValueError("owner must be non-empty")
        self._owner = owner
        self._wallet: Wallet | None = wallet
        self.contracts = contracts
        self._tick_of = tick_of or (lambda token_id: DEFAULT_TICK)
        self._neg_risk_of = neg_risk_of or (lambda token_id: False)

    @property
    def wallet(self) -> Wallet:
        assert self._wallet is not None
        return self._wallet

    @wallet.setter
    def wallet(self, wallet: Wallet) -> None:
        self._wallet = wallet

    def __repr__(self) -> str:
        return f"{type(self).__name__}(owner={self._owner!r}, wallet={self.wallet!r})"

    @property
    def owner(self) -> str:
        return self._owner

    @property
    def address(self) -> str:
        return self.wallet.funder

    def sign(self, req: OrderRequest) -> SignedOrder:
        from exchange.eip712 import MAINNET, sign_request

        v2 = sign_request(
            self.wallet,
            req,
            tick=self._tick_of(req.token_id),
            neg_risk=self._neg_risk_of(req.token_id),
            post_only=req.post_only,
            contracts=self.contracts or MAINNET,
        )
        return SignedOrder(order_id=v2.order_id, body=v2.body, v2=v2)


class PaperSigner(LiveSigner):
    """Signs for the paper venue with the owner's well-known paper key (no secret)."""

    def __init__(self, owner: str, tick: Decimal = DEFAULT_TICK) -> None:
        if not owner:
            raise ValueError("owner must be non-empty")
        self._owner = owner
        self._wallet = None  # made at the first signature
        self.contracts = None
        self._tick_of = lambda token_id: tick
        self._neg_risk_of = lambda token_id: False

    @property
    def wallet(self) -> Wallet:
        if self._wallet is None:
            from exchange.eip712 import Wallet, paper_account

            self._wallet = Wallet.eoa(paper_account(self._owner))
        return self._wallet

    @wallet.setter
    def wallet(self, wallet: Wallet) -> None:
        self._wallet = wallet

    def __repr__(self) -> str:
        return f"PaperSigner(owner={self._owner!r})"
