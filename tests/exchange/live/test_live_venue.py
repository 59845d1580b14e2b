"""`LiveVenue` (polymarket-client underneath) against the paper venue: EOA and deposit wallet."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from polymarket._internal.wallet import derive_proxy_wallet_address, derive_safe_wallet_address

from exchange import AuthError, Book, OrderRejected, Venue
from exchange.auth import ApiCredentials
from exchange.eip712 import (
    MAINNET,
    InvalidOrderSignature,
    Wallet,
    domain_for,
    recover_signer,
    unsigned_from_body,
)
from exchange.live import LiveVenue
from exchange.paper import ManualClock
from exchange.signing import LiveSigner
from tests.exchange.helpers import live_window, order
from tests.exchange.live.conftest import LiveFactory, deposit_wallet

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def best(venue: LiveVenue, token: str) -> Book:
    return venue.books([token])[token]


@pytest.fixture(params=["EOA", "DEPOSIT_WALLET"])
def live(
    request: pytest.FixtureRequest, account: LocalAccount, make_live: LiveFactory
) -> LiveVenue:
    wallet = Wallet.eoa(account) if request.param == "EOA" else deposit_wallet(account)
    return make_live(wallet)


def test_it_is_a_venue_and_trades(live: LiveVenue, clock: ManualClock) -> None:
    assert isinstance(live, Venue)
    window = live_window(live)
    token = window.up_token
    meta = live.market_meta(token)
    assert meta.condition_id == window.condition_id and meta.tick_size == Decimal("0.01")
    assert (meta.fee_rate, meta.neg_risk) == (Decimal("0.07"), False)
    book = best(live, token)
    assert book.best_bid is not None and book.best_ask is not None

    rest = order("rest-1", token, "BUY", book.best_bid, "10")
    order_id = live.order_id_for(rest)
    placed = live.place(rest)
    assert placed.success and placed.status == "live" and placed.order_id == order_id
    assert [o.order_id for o in live.open_orders()] == [order_id]
    assert live.place(rest).order_id == order_id  # a re-post finds the same order
    assert len(live.open_orders()) == 1
    assert live.cancel(order_id) and not live.cancel(order_id)

    take = order("take-1", token, "BUY", book.best_ask, "10", "FAK")
    taken = live.place(take)
    assert taken.status == "matched" and len(taken.trade_ids) == 1
    fills, cursor = live.fills_since(None)
    assert [f.order_id for f in fills] == [taken.order_id] and fills[0].size == taken.taking_amount
    assert live.fills_since(cursor)[0] == []
    shares = live.balance_allowance(token)
    assert shares.balance == int(taken.taking_amount * 10**6)
    pusd = live.balance_allowance()
    fee = live.taker_fee(token, fills[0].size, fills[0].price)
    spent = taken.making_amount + fee.quantize(Decimal("0.000001"))
    assert pusd.balance == int((Decimal(1_000_000) - spent) * 10**6)


def test_batches_of_more_than_fifteen(live: LiveVenue) -> None:
    token = live_window(live).down_token
    low = best(live, token).best_bid
    assert low is not None
    reqs = [order(f"batch-{i}", token, "BUY", low - Decimal("0.01"), "5") for i in range(17)]
    results = live.place_many(reqs)
    assert [r.order_id for r in results] == [live.order_id_for(r) for r in reqs]
    assert all(r.success and r.status == "live" for r in results)
    ids = [r.order_id for r in results]
    assert sorted(o.order_id for o in live.open_orders()) == sorted(ids)
    assert sorted(live.cancel_many(ids)) == sorted(ids)
    assert live.open_orders() == []


def test_a_refused_order_in_a_batch_does_not_sink_the_others(live: LiveVenue) -> None:
    token = live_window(live).up_token
    low = best(live, token).best_bid
    assert low is not None
    good = order("ok", token, "BUY", low, "5")
    killed = order("fok", token, "BUY", "0.02", "5", "FOK")
    first, second = live.place_many([good, killed])
    assert first.success and not second.success and "FOK" in second.error


def test_heartbeats_chain_and_a_silent_owner_is_cancelled(
    live: LiveVenue, clock: ManualClock
) -> None:
    token = live_window(live).up_token
    live.place(order("hb", token, "BUY", "0.02", "5"))  # far below the book: it rests
    first = live.heartbeat("")
    second = live.heartbeat(first)
    assert second != first
    clock.advance(5)
    live.heartbeat(second)  # in time: the deadline moves
    assert len(live.open_orders()) == 1
    clock.advance(11)  # silence past the 10 s deadline: the venue cancels everything
    assert live.open_orders() == []


def test_api_keys_are_derived_again_and_bad_ones_refused(
    account: LocalAccount, make_live: LiveFactory
) -> None:
    wallet = Wallet.eoa(account)
    first = make_live(wallet)
    again = make_live(wallet)  # create answers 400 now: the SDK's create-or-derive derives
    assert again.credentials.api_key == first.credentials.api_key
    assert first.derive_api_key().secret == first.credentials.secret
    forged = ApiCredentials(first.credentials.api_key, "c2VjcmV0LXNlY3JldA==", "nope")
    bad = make_live(wallet, credentials=forged)
    with pytest.raises(AuthError):
        bad.open_orders()


def test_orders_must_be_signed_by_the_keys_address(
    account: LocalAccount, make_live: LiveFactory
) -> None:
    """An API key is bound to its address: another key's signature is refused."""
    mine = make_live(Wallet.eoa(account))
    intruder = LiveVenue.__new__(LiveVenue)  # share the API credentials, sign with another key
    intruder.__dict__.update(mine.__dict__)
    intruder.signer = type(mine.signer)(
        mine.owner, Wallet.eoa(Account.create()), tick_of=lambda t: Decimal("0.01")
    )
    token = live_window(mine).up_token
    low = best(mine, token).best_bid
    assert low is not None
    with pytest.raises(OrderRejected, match="signature"):
        intruder.place(order("x", token, "BUY", low, "5"))


def test_window_and_resolution_reads(live: LiveVenue, clock: ManualClock) -> None:
    window = live_window(live)
    assert live.resolution(window.slug) is None
    clock.advance(window.end_ts - live.server_time() + 1)
    done = live.resolution(window.slug)
    assert done is not None and done.winner in ("Up", "Down")


def test_requests_carry_no_default_host(account: LocalAccount) -> None:
    with pytest.raises(ValueError, match="explicit"):
        LiveVenue("clob.polymarket.com", Wallet.eoa(account))


@pytest.mark.parametrize(
    ("wallet_type", "derive"),
    [("POLY_PROXY", derive_proxy_wallet_address), ("GNOSIS_SAFE", derive_safe_wallet_address)],
)
def test_proxy_and_safe_wallets_sign_for_their_funds(
    account: LocalAccount, make_live: LiveFactory, wallet_type: Any, derive: Any
) -> None:
    funder = derive(account.address, MAINNET.config.wallet_derivation)
    live = make_live(Wallet(account=account, funder=funder, wallet_type=wallet_type))
    token = live_window(live).up_token
    placed = live.place(order("w", token, "BUY", "0.02", "5"))
    assert placed.success and live.signer.sign(order("w", token, "BUY", "0.02", "5")).body[
        "signatureType"
    ] == (1 if wallet_type == "POLY_PROXY" else 2)
    stranger = Wallet(account=account, funder=Account.create().address, wallet_type=wallet_type)
    live.signer.wallet = stranger  # claims funds its key does not control
    with pytest.raises(OrderRejected, match="signature"):
        live.place(order("x", token, "BUY", "0.02", "5"))


def test_neg_risk_markets_sign_on_the_neg_risk_exchange(account: LocalAccount) -> None:
    token = str(2**255 + 2**64 + 11)
    req = order("nr", token, "BUY", "0.5", "10")
    plain = LiveSigner("k", Wallet.eoa(account)).sign(req)
    neg = LiveSigner("k", Wallet.eoa(account), neg_risk_of=lambda t: True).sign(req)
    assert plain.v2 is not None and neg.v2 is not None
    assert plain.v2.unsigned.exchange_address == MAINNET.config.standard_exchange
    assert neg.v2.unsigned.exchange_address == MAINNET.config.neg_risk_exchange
    assert neg.order_id != plain.order_id
    neg_domain = unsigned_from_body(neg.body, "GTC", domain_for(token, True))
    assert recover_signer(neg_domain, neg.body["signature"]) == account.address
    wrong_domain = unsigned_from_body(neg.body, "GTC", domain_for(token, False))
    with pytest.raises(InvalidOrderSignature):
        recover_signer(wrong_domain, neg.body["signature"])


def test_terms_from_discovery_spare_the_per_token_market_lookups(
    account: LocalAccount, make_live: LiveFactory, app: Any
) -> None:
    live = make_live(Wallet.eoa(account))
    window = live_window(live)
    counts = app.state.request_counts
    counts.reset()
    tokens = (window.up_token, window.down_token)
    terms = (Decimal("0.01"), False, Decimal("0.07"), Decimal(1))
    assert live.learn_market(window.condition_id, tokens, *terms)
    book = best(live, window.up_token)
    assert book.best_bid is not None
    placed = live.place(order("seeded-1", window.up_token, "BUY", book.best_bid, "10"))
    assert placed.success and placed.status == "live"
    assert counts.get("GET /markets-by-token/{token_id}") == 0
    assert counts.get("GET /clob-markets/{condition_id}") == 0
    assert live.market_meta(window.down_token).fee_rate == Decimal("0.07")
    assert not live.learn_market(window.condition_id, tokens, Decimal("0.001"), *terms[1:])
    assert live.market_meta(window.up_token).tick_size == Decimal("0.01")  # the cached one kept
