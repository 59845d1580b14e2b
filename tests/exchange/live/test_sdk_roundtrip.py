"""Polymarket's own SDK, unmodified, trades against the paper venue with a throwaway EOA.

The venue is served by uvicorn on a loopback port; the SDK gets an
`Environment` whose every URL is that port or a dead one (`sdk_environment`),
so nothing here can reach a real Polymarket host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from eth_account import Account
from fastapi import FastAPI
from polymarket import SecureClient
from polymarket._internal.actions.orders.market_data import (
    fetch_market_info_sync,
    fetch_neg_risk_sync,
    fetch_tick_size_sync,
    resolve_condition_by_token_sync,
)
from polymarket.errors import RequestRejectedError
from polymarket.models.clob import AcceptedOrder, PriceRequest
from polymarket.models.types import ConditionId, TokenId

from exchange import ClobClient
from exchange.live import sdk_environment
from exchange.paper import ManualClock
from tests.exchange.conftest import NO_WAIT
from tests.exchange.helpers import live_window

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def venue_url(app: FastAPI, serve_app: Callable[[FastAPI], str]) -> str:
    return serve_app(app)


@pytest.fixture
def sdk(venue_url: str) -> Iterator[SecureClient]:
    account = Account.create()  # a throwaway key, made for this test only
    client = SecureClient.create(
        private_key=account.key.hex(),
        wallet=account.address,  # EOA: the signer funds its own orders
        environment=sdk_environment(venue_url),
    )
    assert client.wallet_type == "EOA" and client.signer == account.address
    yield client
    client.close()


def test_the_sdk_does_the_whole_round_trip(
    sdk: SecureClient, venue_url: str, clock: ManualClock
) -> None:
    with ClobClient(venue_url, retry=NO_WAIT) as ours:
        window = live_window(ours)
    token = TokenId(window.up_token)
    ctx = sdk._ctx  # the SDK's own metadata reads take its context

    # create/derive: the key made while creating the client derives to the same credentials
    assert sdk.fetch_api_keys() == (sdk.credentials.key,)

    # market data and metadata, each through the SDK's own parsers
    book = sdk.get_order_book(asset_id=token)
    assert book.asset_id == token and book.condition_id == window.condition_id
    best_bid, best_ask = book.bids[-1].price, book.asks[-1].price  # best levels last
    mid = sdk.get_midpoint(asset_id=token)
    assert best_bid < mid < best_ask
    assert sdk.get_midpoints(asset_ids=[token]) == {token: mid}
    assert sdk.get_price(asset_id=token, side="BUY") == best_ask
    prices = sdk.get_prices(requests=[PriceRequest(token, "BUY"), PriceRequest(token, "SELL")])
    assert prices == {token: {"BUY": best_ask, "SELL": best_bid}}
    assert sdk.get_spread(asset_id=token) == best_ask - best_bid
    last = sdk.get_last_trade_price(asset_id=token)
    assert last is not None and last.price == mid
    assert fetch_tick_size_sync(ctx, token_id=token) == Decimal("0.01") == book.tick_size
    assert fetch_neg_risk_sync(ctx, token_id=token) is False
    assert resolve_condition_by_token_sync(ctx, token_id=token) == window.condition_id
    info = fetch_market_info_sync(ctx, condition_id=ConditionId(window.condition_id))
    assert info.fee_info.rate == Decimal("0.07") and info.fee_info.exponent == 1
    assert info.asset_ids == {window.up_token, window.down_token} and not info.neg_risk

    start = sdk.get_balance_allowance(asset_type="COLLATERAL")
    assert start.balance == 1_000_000 * 10**6 and len(start.allowances) == 3

    # a GTC BUY below the ask rests; the SDK signs it (EIP-712 V2), the venue verifies it
    resting = sdk.place_limit_order(asset_id=token, price=best_bid, size="10", side="BUY")
    assert isinstance(resting, AcceptedOrder), resting
    assert resting.status == "live" and resting.trade_ids == ()
    open_ids = [o.id for o in sdk.list_open_orders().first_page().items]
    assert open_ids == [resting.order_id]
    canceled = sdk.cancel_order(order_id=resting.order_id)
    assert list(canceled.canceled) == [resting.order_id]
    assert sdk.list_open_orders().first_page().items == ()

    # a marketable FAK BUY: 5 pUSD at up to the best ask, filled at once
    taken = sdk.place_market_order(asset_id=token, side="BUY", amount="5", max_price=best_ask)
    assert isinstance(taken, AcceptedOrder), taken
    assert taken.status == "matched" and len(taken.trade_ids) == 1
    assert Decimal("4.99") < taken.making_amount <= 5 and taken.taking_amount > 0
    trades = sdk.list_account_trades().first_page().items
    assert [t.id for t in trades] == list(taken.trade_ids)
    trade = trades[0]
    assert trade.taker_order_id == taken.order_id and trade.status == "CONFIRMED"
    assert trade.size == taken.taking_amount and trade.fee_rate_bps == Decimal(700)
    assert trade.price * trade.size == taken.making_amount

    # the balance paid the trade and the taker fee: shares * 0.07 * p * (1 - p)
    fee = trade.size * Decimal("0.07") * trade.price * (1 - trade.price)
    after = sdk.get_balance_allowance(asset_type="COLLATERAL")
    spent = taken.making_amount + fee.quantize(Decimal("0.000001"))
    assert start.balance - after.balance == int(spent * 10**6)
    shares = sdk.get_balance_allowance(asset_type="CONDITIONAL", asset_id=token)
    assert shares.balance == int(trade.size * 10**6)

    # a FAK that cannot take anything is refused (400, the venue's FAK message)
    with pytest.raises(RequestRejectedError, match="FAK orders are partially filled") as refused:
        sdk.place_market_order(asset_id=token, side="BUY", amount="5", max_price=Decimal("0.02"))
    assert refused.value.status == 400


def test_a_second_client_of_the_same_key_derives_the_same_credentials(venue_url: str) -> None:
    account = Account.create()
    environment = sdk_environment(venue_url)
    first = SecureClient.create(
        private_key=account.key.hex(), wallet=account.address, environment=environment
    )
    again = SecureClient.create(  # create answers 400 now, so the SDK derives
        private_key=account.key.hex(), wallet=account.address, environment=environment
    )
    assert again.credentials.key == first.credentials.key
    assert again.credentials.secret == first.credentials.secret
    first.close()
    again.close()
