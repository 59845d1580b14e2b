"""CLOB V2 orders: build, sign, hash and verify them with polymarket-client and eth-account.

Nothing here is hand-rolled: the unsigned order, its EIP-712 typed data, the
POLY_1271 (deposit wallet) signature wrapping, the POST /order body and the
wallet address derivations are the SDK's own functions (polymarket-client,
pinned exactly); signing and signer recovery are eth-account's. What this
module adds is the choice of inputs the SDK otherwise draws at random: the
salt and the timestamp come from the client order id, so signing the same
request twice gives the same order and the same order id (its EIP-712 hash).

The signing domain is chosen per market: "Polymarket CTF Exchange" version
"3" on ExchangeV3 for markets whose tokens are protocol-v2 position ids
(Gamma flags them `version: "v2"`), else version "2" on the neg-risk
exchange for neg-risk markets and on the standard exchange otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from polymarket._internal.actions.orders.context import resolve_order_exchange_address
from polymarket._internal.actions.orders.limit import _compute_limit_order_amounts
from polymarket._internal.actions.orders.market import _compute_market_order_amounts
from polymarket._internal.actions.orders.orders import create_signed_order, create_unsigned_order
from polymarket._internal.actions.orders.post import _build_send_order_payload
from polymarket._internal.actions.orders.typed_data import (
    _build_standard_typed_data,
    build_order_signature,
    build_order_typed_data,
)
from polymarket._internal.actions.orders.types import BYTES32_ZERO, OrderDraft, UnsignedOrder
from polymarket._internal.environment import PRODUCTION_CONFIG, EnvironmentConfig
from polymarket._internal.protocol import is_v2_position_id
from polymarket._internal.wallet import (
    SignerType,
    WalletType,
    derive_beacon_deposit_wallet_address,
    derive_proxy_wallet_address,
    derive_safe_wallet_address,
    derive_uups_deposit_wallet_address,
    signature_type_for,
    wrap_deposit_wallet_signature,
)
from polymarket.models.clob.orders import SignedOrder as SdkSignedOrder
from polymarket.models.types import TokenId
from polymarket.types import EvmAddress, HexString

from exchange.signing import salt_for, timestamp_for
from exchange.types import OrderRequest, OrderType, Side

#: The signature types of the exchange contracts, by the SDK's wallet names.
SIGNATURE_TYPES: dict[WalletType, int] = {
    "EOA": 0,
    "POLY_PROXY": 1,
    "GNOSIS_SAFE": 2,
    "DEPOSIT_WALLET": 3,
}
WALLET_TYPES: dict[int, WalletType] = {v: k for k, v in SIGNATURE_TYPES.items()}
POLY_1271 = 3
ECDSA_SIGNATURE_BYTES = 65
#: Fields of a V2 `order` object; a V1 body carries `taker`, `nonce`, `feeRateBps` instead.
V2_FIELDS = frozenset(
    {
        "salt",
        "maker",
        "signer",
        "tokenId",
        "makerAmount",
        "takerAmount",
        "side",
        "signatureType",
        "timestamp",
        "metadata",
        "builder",
        "expiration",
        "signature",
    }
)
V1_ONLY_FIELDS = frozenset({"taker", "nonce", "feeRateBps"})


@dataclass(frozen=True)
class Contracts:
    """Chain id, exchange contracts and wallet factories (the SDK's production values)."""

    config: EnvironmentConfig = field(default=PRODUCTION_CONFIG, repr=False)

    @property
    def chain_id(self) -> int:
        return self.config.chain_id

    def exchanges(self) -> tuple[str, ...]:
        """Every exchange an order may be signed for (the spenders of pUSD and shares)."""
        c = self.config
        return (c.standard_exchange, c.neg_risk_exchange, c.exchange_v3)


MAINNET = Contracts()


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain an order is signed in: protocol version and verifying contract."""

    version: Literal["2", "3"]
    exchange: str


def domain_for(token_id: str, neg_risk: bool, contracts: Contracts = MAINNET) -> Domain:
    """The SDK's own rule: v2 position ids sign with version "3" on ExchangeV3."""
    exchange = resolve_order_exchange_address(
        contracts.config, asset_id=token_id, neg_risk=neg_risk
    )
    return Domain("3" if is_v2_position_id(token_id) else "2", str(exchange))


@dataclass(frozen=True)
class Wallet:
    """Who signs (an EOA key) and for which funds (the maker: the EOA or its smart wallet).

    The key never leaves this object and never appears in its repr.
    """

    account: LocalAccount = field(repr=False)
    funder: str
    wallet_type: WalletType = "EOA"
    signer_type: SignerType = "OWNER"

    def __post_init__(self) -> None:
        object.__setattr__(self, "funder", to_checksum_address(self.funder))
        if self.wallet_type == "EOA" and self.funder != self.account.address:
            raise ValueError("an EOA wallet's funder must be the signer's own address")

    def __repr__(self) -> str:
        return (
            f"Wallet(signer={self.account.address}, funder={self.funder}, "
            f"wallet_type={self.wallet_type})"
        )

    @property
    def address(self) -> str:
        """The signing EOA (POLY_ADDRESS of L1 and L2 auth)."""
        return str(self.account.address)

    @property
    def signature_type(self) -> int:
        return signature_type_for(self.wallet_type)

    @classmethod
    def eoa(cls, account: LocalAccount) -> Wallet:
        return cls(account=account, funder=account.address)


def order_amounts(
    side: Side, price: Decimal, size: Decimal, order_type: OrderType, tick: Decimal
) -> tuple[int, int]:
    """(makerAmount, takerAmount) in 1e-6 units, rounded as the SDK rounds them.

    GTC/GTD as its limit orders (shares to 2 dp, the notional exact); FOK/FAK as
    its market orders (a BUY spends price*size cut to 2 dp, for shares cut to 4 dp).
    """
    if order_type in ("FOK", "FAK"):
        notional = price * size if side == "BUY" else size
        return _compute_market_order_amounts(
            amount=notional, price=price, side=side, tick_size=tick
        )
    return _compute_limit_order_amounts(price=price, size=size, side=side, tick_size=tick)


@dataclass(frozen=True)
class V2Order:
    """A signed V2 order: the SDK's record, its id (EIP-712 hash) and the unsigned form."""

    order_id: str
    signed: SdkSignedOrder
    unsigned: UnsignedOrder

    @property
    def body(self) -> dict[str, Any]:
        """The `order` object of POST /order, exactly as the SDK sends it."""
        payload = _build_send_order_payload(self.signed, owner_api_key="")
        order: dict[str, Any] = payload["order"]
        return order

    def post_payload(self, owner: str) -> dict[str, Any]:
        """The whole POST /order body (also one item of POST /orders), as the SDK sends it."""
        return _build_send_order_payload(self.signed, owner_api_key=owner)


def unsigned_order(
    wallet: Wallet,
    req: OrderRequest,
    *,
    tick: Decimal,
    neg_risk: bool = False,
    contracts: Contracts = MAINNET,
) -> UnsignedOrder:
    """The SDK's unsigned order for `req`, our salt and timestamp replacing its random ones."""
    maker_amount, taker_amount = order_amounts(req.side, req.price, req.size, req.order_type, tick)
    draft = OrderDraft(
        chain_id=contracts.chain_id,
        exchange_address=EvmAddress(domain_for(req.token_id, neg_risk, contracts).exchange),
        expiration=req.expiration,
        funder_address=EvmAddress(wallet.funder),
        offered_amount=maker_amount,
        order_type=req.order_type,
        side=req.side,
        signer=EvmAddress(wallet.address),
        requested_amount=taker_amount,
        asset_id=TokenId(req.token_id),
    )
    unsigned = create_unsigned_order(
        draft, wallet=EvmAddress(wallet.funder), wallet_type=wallet.wallet_type
    )
    return replace(
        unsigned,
        salt=salt_for(req.client_order_id),
        timestamp=timestamp_for(req.client_order_id),
    )


def sign_unsigned(wallet: Wallet, unsigned: UnsignedOrder, *, post_only: bool = False) -> V2Order:
    """Sign as `SecureClient` does (typed data, 1271 wrapping), and compute the order id."""
    signed_message = wallet.account.sign_typed_data(full_message=build_order_typed_data(unsigned))
    raw_hex = signed_message.signature.hex()
    signature = HexString(raw_hex if raw_hex.startswith("0x") else "0x" + raw_hex)
    final = wrap_deposit_wallet_signature(
        signer=wallet.address,
        signer_type=wallet.signer_type,
        signature=build_order_signature(unsigned, signature),
    )
    signed = create_signed_order(unsigned, final, post_only=post_only)
    return V2Order(order_id=order_hash(unsigned), signed=signed, unsigned=unsigned)


def sign_request(
    wallet: Wallet,
    req: OrderRequest,
    *,
    tick: Decimal,
    neg_risk: bool = False,
    post_only: bool = False,
    contracts: Contracts = MAINNET,
) -> V2Order:
    unsigned = unsigned_order(wallet, req, tick=tick, neg_risk=neg_risk, contracts=contracts)
    return sign_unsigned(wallet, unsigned, post_only=post_only)


def order_hash(unsigned: UnsignedOrder) -> str:
    """The order id: EIP-712 hash of the Order struct in its exchange's domain."""
    typed = _build_standard_typed_data(unsigned, protocol_version=unsigned.protocol_version)
    return "0x" + bytes(_hash_eip191_message(encode_typed_data(full_message=typed))).hex()


# -- verification (the paper venue's side) ------------------------------------------
class InvalidOrderSignature(ValueError):
    """The signature does not belong to the order, or not to a wallet its signer controls."""


def unsigned_from_body(
    order: dict[str, Any], order_type: str, domain: Domain, contracts: Contracts = MAINNET
) -> UnsignedOrder:
    """Rebuild the unsigned order from a POST /order `order` object (fields already validated)."""
    return UnsignedOrder(
        chain_id=contracts.chain_id,
        builder=HexString(str(order["builder"])),
        exchange_address=EvmAddress(domain.exchange),
        expiration=int(order["expiration"]),
        maker=EvmAddress(to_checksum_address(str(order["maker"]))),
        maker_amount=int(order["makerAmount"]),
        metadata=HexString(str(order["metadata"])),
        order_type=order_type,  # type: ignore[arg-type]
        salt=int(order["salt"]),
        side=order["side"],
        signature_type=int(order["signatureType"]),
        signer=EvmAddress(to_checksum_address(str(order["signer"]))),
        taker_amount=int(order["takerAmount"]),
        timestamp=int(order["timestamp"]),
        token_id=TokenId(str(order["tokenId"])),
        protocol_version=domain.version,
    )


def recover_signer(unsigned: UnsignedOrder, signature: str, contracts: Contracts = MAINNET) -> str:
    """The EOA that signed the order, after checking it may sign for the order's maker.

    EOA: signer == maker. POLY_PROXY / GNOSIS_SAFE: the maker is the signer's
    proxy / safe (CREATE2 derivations of the SDK). POLY_1271: the maker and
    signer are the deposit wallet of the recovered owner key, and the signature
    carries the ERC-7739 trailer the SDK appends. Raises InvalidOrderSignature.
    """
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raise InvalidOrderSignature("signature is not hex") from None
    if len(raw) < ECDSA_SIGNATURE_BYTES:
        raise InvalidOrderSignature("signature too short")
    ecdsa = "0x" + raw[:ECDSA_SIGNATURE_BYTES].hex()
    try:
        signer = str(
            Account.recover_message(
                encode_typed_data(full_message=build_order_typed_data(unsigned)), signature=ecdsa
            )
        )
    except Exception as exc:  # eth-keys raises several types for a malformed signature
        raise InvalidOrderSignature(f"signature does not recover: {exc}") from None
    _check_wallet(unsigned, signer, signature, ecdsa, contracts)
    return signer


def _check_wallet(
    unsigned: UnsignedOrder, signer: str, signature: str, ecdsa: str, contracts: Contracts
) -> None:
    kind = unsigned.signature_type
    derivation = contracts.config.wallet_derivation
    maker, order_signer = unsigned.maker, unsigned.signer
    if kind == POLY_1271:
        wallets = {
            derive_beacon_deposit_wallet_address(signer, derivation),
            derive_uups_deposit_wallet_address(signer, derivation),
        }
        if maker not in wallets or order_signer != maker:
            raise InvalidOrderSignature("maker is not the deposit wallet of the signing key")
        expected = build_order_signature(unsigned, HexString(ecdsa))
        if expected.lower() != signature.lower():
            raise InvalidOrderSignature("deposit wallet signature trailer does not match")
        return
    if order_signer != signer or len(signature.removeprefix("0x")) != 2 * ECDSA_SIGNATURE_BYTES:
        raise InvalidOrderSignature("signature is not the order signer's")
    owners = {
        0: signer,
        1: derive_proxy_wallet_address(signer, derivation),
        2: derive_safe_wallet_address(signer, derivation),
    }
    if kind not in owners or owners[kind] != maker:
        raise InvalidOrderSignature(f"maker {maker} is not signature type {kind} of {signer}")


def paper_account(owner: str) -> LocalAccount:
    """A well-known throwaway key per paper owner (never for real funds: anyone can derive it)."""
    from exchange.signing import PaperSigner

    return PaperSigner(owner).account


def bytes32_zero() -> str:
    return str(BYTES32_ZERO)
