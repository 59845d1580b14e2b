"""Golden: our signed orders are the SDK's own, field for field and signature.

Our signer is the SDK's order pipeline with two inputs fixed: the salt and the
timestamp (derived from the client order id instead of drawn at random). So the
test runs the SDK's public `create_limit_order` / `create_market_order` with its
randomness pinned to our derivation and compares the whole POST /order body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI
from polymarket import SecureClient
from polymarket._internal.actions.orders import orders as sdk_orders
from polymarket._internal.actions.orders.post import build_post_order_request
from polymarket.models.clob.orders import SignedOrder as SdkSignedOrder

from exchange import ClobClient, OrderRequest, PaperSigner
from exchange.eip712 import (
    MAINNET,
    Wallet,
    domain_for,
    order_hash,
    paper_account,
    recover_signer,
    sign_request,
    unsigned_from_body,
)
from exchange.live import sdk_environment
from exchange.signing import salt_for, timestamp_for
from exchange.types import Side
from tests.exchange.conftest import NO_WAIT
from tests.exchange.helpers import live_window
from tests.exchange.live.conftest import deposit_wallet

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TICK = Decimal("0.01")


@pytest.fixture
def venue_url(app: FastAPI, serve_app: Callable[[FastAPI], str]) -> str:
    return serve_app(app)


@pytest.fixture
def token(venue_url: str) -> str:
    with ClobClient(venue_url, retry=NO_WAIT) as ours:
        return live_window(ours).up_token


def sdk_client(account: LocalAccount, wallet: Wallet, venue_url: str) -> SecureClient:
    environment = sdk_environment(venue_url)
    eoa = SecureClient.create(
        private_key=account.key.hex(), wallet=account.address, environment=environment
    )
    if wallet.wallet_type == "EOA":
        return eoa
    # a deposit wallet: the SDK's own constructor (create() would ask the relayer whether
    # the wallet is deployed, and there is no relayer here)
    client = SecureClient._construct_for_wallet(
        signer=account, wallet=wallet.funder, wallet_type=wallet.wallet_type,
        signer_type="OWNER", environment=environment, config=eoa._ctx.environment_config,
        credentials=eoa.credentials, api_key=None, logger=None, on_rate_limit_update=None,
    )  # fmt: skip
    eoa.close()
    return client


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Pin the SDK's random salt and clock-read timestamp to our derivation for one coid."""

    def pin(coid: str) -> None:
        monkeypatch.setattr(sdk_orders, "_generate_salt", lambda: salt_for(coid))
        monkeypatch.setattr(sdk_orders, "_current_timestamp_ms", lambda: timestamp_for(coid))

    return pin


def body(order: SdkSignedOrder) -> dict[str, object]:
    return build_post_order_request(order, owner_api_key="owner")[1]


@pytest.fixture(params=["EOA", "DEPOSIT_WALLET"])
def wallets(
    request: pytest.FixtureRequest, account: LocalAccount, venue_url: str
) -> Iterator[tuple[Wallet, SecureClient]]:
    wallet = Wallet.eoa(account) if request.param == "EOA" else deposit_wallet(account)
    client = sdk_client(account, wallet, venue_url)
    yield wallet, client
    client.close()


def test_limit_orders_equal_the_sdks(
    wallets: tuple[Wallet, SecureClient], token: str, pinned: Callable[[str], None]
) -> None:
    wallet, sdk = wallets
    cases: list[tuple[str, Side, str, str]] = [
        ("g-1", "BUY", "0.37", "12.5"),
        ("g-2", "SELL", "0.61", "7"),
    ]
    for coid, side, price, size in cases:
        req = OrderRequest(coid, token, side, Decimal(price), Decimal(size))
        ours = sign_request(wallet, req, tick=TICK)
        pinned(coid)
        theirs = sdk.create_limit_order(asset_id=token, price=price, size=size, side=side)
        assert ours.signed == theirs  # every field, the signature included
        assert ours.post_payload("owner") == body(theirs)
        assert ours.signed.signature_type == (0 if wallet.wallet_type == "EOA" else 3)
        assert ours.signed.maker == wallet.funder
        # the id is the EIP-712 hash, and the venue side recovers our key from the signature
        unsigned = unsigned_from_body(ours.body, "GTC", domain_for(token, False))
        assert order_hash(unsigned) == ours.order_id
        assert recover_signer(unsigned, ours.body["signature"]) == wallet.address


def test_market_orders_equal_the_sdks(
    wallets: tuple[Wallet, SecureClient], token: str, pinned: Callable[[str], None]
) -> None:
    wallet, sdk = wallets
    req = OrderRequest("g-fak", token, "BUY", Decimal("0.53"), Decimal("5.5"), "FAK")
    ours = sign_request(wallet, req, tick=TICK)
    pinned("g-fak")
    theirs = sdk.create_market_order(
        asset_id=token, side="BUY", amount=Decimal("0.53") * Decimal("5.5"), max_price="0.53"
    )
    assert ours.signed == theirs
    sell = OrderRequest("g-fok", token, "SELL", Decimal("0.4"), Decimal("8"), "FOK")
    pinned("g-fok")
    theirs_sell = sdk.create_market_order(
        asset_id=token, side="SELL", shares="8", min_price="0.4", order_type="FOK"
    )
    assert sign_request(wallet, sell, tick=TICK).signed == theirs_sell


def test_re_signing_gives_the_same_order_and_id(account: LocalAccount) -> None:
    wallet = Wallet.eoa(account)
    req = OrderRequest("crash-1", "123" * 20, "BUY", Decimal("0.5"), Decimal("10"))
    first, again = sign_request(wallet, req, tick=TICK), sign_request(wallet, req, tick=TICK)
    assert first.order_id == again.order_id and first.body == again.body
    other = OrderRequest("crash-2", req.token_id, "BUY", req.price, req.size)
    assert sign_request(wallet, other, tick=TICK).order_id != first.order_id


def test_the_domain_follows_the_market() -> None:
    config = MAINNET.config
    v1_token = str(2**255 + 2**64 + 7)  # reserved bits set: a CTF token id (protocol v1)
    v2_token = str((1 << 248) | (0xAB << 104) | 1)  # a protocol-v2 position id
    assert domain_for(v1_token, False).exchange == config.standard_exchange
    assert domain_for(v1_token, False).version == "2"
    assert domain_for(v1_token, True).exchange == config.neg_risk_exchange
    assert domain_for(v2_token, False).exchange == config.exchange_v3
    assert domain_for(v2_token, False).version == "3"


@pytest.mark.parametrize("order_type", ["GTC", "GTD", "FOK", "FAK"])
def test_the_paper_signer_makes_the_sdks_orders(order_type: str) -> None:
    """The paper path signs without importing the SDK; its orders are the SDK pipeline's."""
    signer = PaperSigner("paper-golden")
    wallet = Wallet.eoa(paper_account("paper-golden"))
    token = str(2**255 + 2**64 + 7)
    cases = [
        ("BUY", "0.5", "10"), ("SELL", "0.37", "12.5"), ("BUY", "0.53", "5.5"),
        ("BUY", "0.01", "5.37"), ("SELL", "0.99", "1234.56"), ("BUY", "0.33", "7.77"),
        ("SELL", "0.07", "0.013"), ("BUY", "0.98", "333.33"),
    ]  # fmt: skip
    for i, (side, price, size) in enumerate(cases):
        expiration = 1_900_000_000 if order_type == "GTD" else 0
        req = OrderRequest(
            f"p-{order_type}-{i}", token, side, Decimal(price), Decimal(size),  # type: ignore[arg-type]
            order_type, expiration,  # type: ignore[arg-type]
        )  # fmt: skip
        ours = signer.sign(req)
        sdk = sign_request(wallet, req, tick=TICK)
        assert ours.order_id == sdk.order_id, (side, price, size)
        assert ours.body == sdk.body, (side, price, size)
        assert ours.post_payload("o") == sdk.post_payload("o")
