"""Order signing: turn an `OrderRequest` into the POST /order body and its order id.

Orders are CLOB V2 orders signed with EIP-712 (see `exchange.eip712`, which
uses polymarket-client and eth-account for all of it). The order id is the
EIP-712 hash of the order, known before posting; the salt and timestamp are
derived from the client order id, so the same request always signs to the
same body and the same id, and a re-post cannot make a second order.

`PaperSigner` signs with a well-known throwaway key derived from the owner
name (`eip712.paper_account`): real signatures the paper venue verifies, no
secret to keep. `LiveSigner` signs with the operator's wallet.

`LiveSigner` imports the SDK (seconds of imports) at its first signature;
`PaperSigner` never does (`exchange.paper_signing`, golden-tested against it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from exchange import paper_signing
from exchange.types import OrderRequest

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from exchange.eip712 import Contracts, V2Order, Wallet

__all__ = [
    "DEFAULT_TICK",
    "LiveSigner",
    "OrderSigner",
    "PaperSigner",
    "SignedOrder",
    "canonical_decimal",
    "salt_for",
    "timestamp_for",
]

DEFAULT_TICK = Decimal("0.01")


@dataclass(frozen=True)
class SignedOrder:
    order_id: str
    body: dict[str, Any]  # the `order` object of POST /order
    order_type: str = "GTC"
    post_only: bool = False
    v2: V2Order | None = field(default=None, repr=False, compare=False)  # the SDK's record

    def post_payload(self, owner: str) -> dict[str, Any]:
        """The POST /order body (one item of POST /orders) as the SDK builds it."""
        if self.v2 is not None:
            return self.v2.post_payload(owner)
        return paper_signing.post_payload(self.body, owner, self.order_type, self.post_only)


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


def timestamp_for(client_order_id: str) -> int:
    """The order's `timestamp` (ms), derived from the client order id alone.

    The SDK puts the signing time there; we cannot, or a re-signed order would
    get a new hash. See docs/live.md for what is (not) confirmed about its use.
    """
    digest = hashlib.sha256(b"neverblink-timestamp:" + client_order_id.encode()).hexdigest()
    return int(digest[:10], 16)


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
        return SignedOrder(v2.order_id, v2.body, req.order_type, req.post_only, v2)


class PaperSigner:
    """Signs for the paper venue with the owner's well-known paper key (no secret).

    Same orders as the SDK would make for that key (golden-tested), built by
    `exchange.paper_signing` so a paper runner never waits for the SDK's import.
    """

    def __init__(self, owner: str, tick: Decimal = DEFAULT_TICK) -> None:
        if not owner:
            raise ValueError("owner must be non-empty")
        self._owner = owner
        self.tick = tick
        self._account: LocalAccount | None = None  # derived at the first signature

    def __repr__(self) -> str:
        return f"PaperSigner(owner={self._owner!r})"

    @property
    def owner(self) -> str:
        return self._owner

    @property
    def account(self) -> LocalAccount:
        if self._account is None:
            from eth_account import Account

            seed = hashlib.sha256(b"neverblink-paper-key:" + self._owner.encode()).digest()
            self._account = Account.from_key(seed)
        return self._account

    @property
    def address(self) -> str:
        return str(self.account.address)

    def sign(self, req: OrderRequest) -> SignedOrder:
        order_id, body = paper_signing.sign_eoa(
            self.account,
            req,
            tick=self.tick,
            salt=salt_for(req.client_order_id),
            timestamp=timestamp_for(req.client_order_id),
        )
        return SignedOrder(order_id, body, req.order_type, req.post_only)
