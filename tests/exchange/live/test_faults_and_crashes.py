"""Venue faults at the paper venue, as the live client sees them; crashes around a post.

Faults: engine restart (425 on order routes, then post-only), cancel-only
(503), insufficient balance. Crashes: between sign and post, and between post
and the answer; either way exactly one venue order exists at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest
from eth_account.signers.local import LocalAccount
from fastapi import FastAPI

from exchange import OrderRejected, VenueUnavailable
from exchange.eip712 import Wallet
from exchange.live import (
    CancelOnly,
    EngineRestarting,
    InsufficientBalance,
    LiveVenue,
    PostOnlyMode,
)
from exchange.paper import ManualClock
from tests.exchange.conftest import AppFactory, TestClient
from tests.exchange.helpers import live_window, order
from tests.exchange.live.conftest import LiveFactory

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def fault(http: TestClient, **switches: object) -> None:
    response = http.post("/paper/faults", json=switches)
    assert response.status_code == 200, response.text


@pytest.fixture
def live(account: LocalAccount, make_live: LiveFactory) -> LiveVenue:
    return make_live(Wallet.eoa(account))


def test_engine_restart_then_post_only(
    live: LiveVenue, http: TestClient, clock: ManualClock
) -> None:
    token = live_window(live).up_token
    resting = live.place(order("before", token, "BUY", "0.02", "5"))
    fault(http, engine_restart_s=2, post_only_s=4)
    assert http.get("/paper/faults").json()["engine_restarting"] is True
    with pytest.raises(EngineRestarting) as restarting:
        live.place(order("during", token, "BUY", "0.02", "5"))
    assert restarting.value.status == 425 and restarting.value.retryable
    with pytest.raises(EngineRestarting):
        live.cancel(resting.order_id)  # every order route answers 425
    assert live.books([token])  # market data stays up

    clock.advance(2)  # back, but post-only: only orders that cannot take, and cancels
    with pytest.raises(PostOnlyMode):
        live.place(order("taker", token, "BUY", "0.02", "5"))
    post_only = replace(order("maker", token, "BUY", "0.02", "5"), post_only=True)
    assert live.place(post_only).status == "live"
    ask = live.books([token])[token].best_ask
    assert ask is not None
    crossing = replace(order("crossing", token, "BUY", ask, "5"), post_only=True)
    with pytest.raises(OrderRejected, match="crosses book"):
        live.place(crossing)
    assert live.cancel(resting.order_id)

    clock.advance(4)  # the post-only period is over
    assert live.place(order("after", token, "BUY", "0.02", "5")).success


def test_cancel_only(live: LiveVenue, http: TestClient) -> None:
    token = live_window(live).up_token
    resting = live.place(order("r", token, "BUY", "0.02", "5"))
    fault(http, cancel_only=True)
    with pytest.raises(CancelOnly) as refused:
        live.place(order("n", token, "BUY", "0.02", "5"))
    assert refused.value.status == 503
    assert live.cancel(resting.order_id)  # cancels still pass
    assert http.delete("/paper/faults").status_code == 200
    assert live.place(order("n", token, "BUY", "0.02", "5")).success


def test_insufficient_balance(
    live: LiveVenue, http: TestClient, account: LocalAccount, make_app: AppFactory,
    make_live: LiveFactory,
) -> None:  # fmt: skip
    token = live_window(live).up_token
    fault(http, insufficient_balance=True)
    with pytest.raises(InsufficientBalance, match="not enough balance / allowance"):
        live.place(order("b", token, "BUY", "0.02", "5"))
    http.delete("/paper/faults")
    # and for real: a paper balance of 10 pUSD, counting what open BUYs hold back
    poor = make_app(name="poor", initial_balance=Decimal(10))
    with TestClient(poor, raise_server_exceptions=False) as http_poor:
        venue = LiveVenue("http://testserver", Wallet.eoa(account), http=http_poor)
        token = live_window(venue).up_token
        assert venue.place(order("a", token, "BUY", "0.5", "15")).status == "live"
        with pytest.raises(InsufficientBalance):
            venue.place(order("b", token, "BUY", "0.5", "6"))  # 7.5 held, 2.5 free
        with pytest.raises(InsufficientBalance):
            venue.place(order("c", token, "SELL", "0.5", "5"))  # no shares to sell
        venue.close()


# -- crashes around a post --------------------------------------------------------------
class LoseAnswers(httpx.BaseTransport):
    """Forwards requests; for POST /order it lets the venue act, then drops the answer."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.lose = False
        self.posts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path == "/order":
            self.posts += 1
            if self.lose:
                response.read()
                raise httpx.ReadTimeout("answer lost", request=request)
        return response


@pytest.fixture
def lossy(app: FastAPI) -> Iterator[tuple[LoseAnswers, Callable[[], httpx.Client]]]:
    with TestClient(app, raise_server_exceptions=False) as inner:
        transport = LoseAnswers(inner._transport)
        clients: list[httpx.Client] = []

        def client() -> httpx.Client:
            made = httpx.Client(transport=transport, base_url="http://testserver")
            clients.append(made)
            return made

        yield transport, client
        for made in clients:
            made.close()


def test_a_crash_between_sign_and_post_ends_with_one_order(
    account: LocalAccount, lossy: tuple[LoseAnswers, Callable[[], httpx.Client]]
) -> None:
    transport, client = lossy
    wallet = Wallet.eoa(account)
    before = LiveVenue("http://testserver", wallet, http=client())
    token = live_window(before).up_token
    req = order("crash-sign", token, "BUY", "0.02", "5")
    order_id = before.order_id_for(req)  # recorded with the order; then the process dies
    after = LiveVenue("http://testserver", wallet, http=client())  # a new process
    assert after.get_order(order_id) is None  # never posted: post it now
    assert after.place(req).order_id == order_id
    assert [o.order_id for o in after.open_orders()] == [order_id]
    assert transport.posts == 1


def test_a_crash_between_post_and_answer_ends_with_one_order(
    account: LocalAccount, lossy: tuple[LoseAnswers, Callable[[], httpx.Client]]
) -> None:
    transport, client = lossy
    wallet = Wallet.eoa(account)
    venue = LiveVenue("http://testserver", wallet, http=client())
    token = live_window(venue).up_token
    req = order("crash-post", token, "BUY", "0.02", "5")
    transport.lose = True
    with pytest.raises(VenueUnavailable):
        venue.place(req)  # the venue took it; we never heard
    transport.lose = False
    again = venue.place(req)  # same process: looked up by its hash, not posted again
    assert again.order_id == venue.order_id_for(req) and again.status == "live"
    assert transport.posts == 1
    restarted = LiveVenue("http://testserver", wallet, http=client())  # or a new process:
    found = restarted.get_order(again.order_id)  # the runner looks it up before re-posting
    assert found is not None and found.is_open
    assert restarted.place(req).order_id == again.order_id  # and a re-post is the same order
    assert [o.order_id for o in restarted.open_orders()] == [again.order_id]
