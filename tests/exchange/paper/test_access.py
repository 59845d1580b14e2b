"""Rate limits (429 + Retry-After) and optional L2 authentication on the paper venue."""

from __future__ import annotations

import base64

import pytest

from exchange import ApiCredentials, AuthError, ClobClient, RateLimited, RetryPolicy
from exchange.paper import ManualClock, RateLimit
from tests.exchange.conftest import AppFactory, TestClient
from tests.exchange.helpers import live_window, order

SECRET = base64.urlsafe_b64encode(b"paper-venue-test-secret").decode()
CREDS = ApiCredentials(api_key="bot-a", secret=SECRET, passphrase="pass", address="0xabc")


def test_book_rate_limit_answers_429_and_the_client_waits(
    make_app: AppFactory, clock: ManualClock
) -> None:
    app = make_app(rate_limits={"GET /book": RateLimit(requests=3, per_s=10.0)})
    with TestClient(app) as http:
        for _ in range(3):
            assert http.get("/book", params={"token_id": "1"}).status_code == 404
        limited = http.get("/book", params={"token_id": "1"})
        assert limited.status_code == 429
        assert limited.json() == {"error": "Too Many Requests"}
        assert limited.headers["Retry-After"] == "10"

        waited: list[float] = []

        def sleep(seconds: float) -> None:  # waiting moves the venue's clock, nothing sleeps
            waited.append(seconds)
            clock.advance(seconds)

        patient = ClobClient(
            "http://testserver",
            http=http,
            sleep=sleep,
            retry=RetryPolicy(max_retry_after_s=30.0),
            timeout=60.0,  # the deadline must leave room for the 10 s wait
        )
        assert patient.book("1") is None  # after one wait the request goes through
        assert waited == [10.0]

        impatient = ClobClient("http://testserver", http=http, sleep=sleep)
        for _ in range(2):
            impatient.book("1")
        with pytest.raises(RateLimited) as raised:
            impatient.book("1")  # Retry-After 10 s is more than it will wait
        assert raised.value.retry_after == 10.0


def test_l2_auth_when_the_venue_has_credentials(make_app: AppFactory) -> None:
    with TestClient(make_app(credentials=(CREDS,))) as http:
        client = ClobClient("http://testserver", http=http, credentials=CREDS)
        window = live_window(client)  # public routes need no auth
        placed = client.place(order("auth", window.down_token, "BUY", "0.02", "5"))
        assert [o.order_id for o in client.open_orders()] == [placed.order_id]

        anonymous = ClobClient("http://testserver", http=http)
        with pytest.raises(AuthError):
            anonymous.open_orders()
        wrong = ApiCredentials(
            api_key="bot-a", secret=base64.urlsafe_b64encode(b"x").decode(), passphrase="pass"
        )
        with pytest.raises(AuthError):
            ClobClient("http://testserver", http=http, credentials=wrong).open_orders()


def test_owners_only_see_and_cancel_their_own_orders(http: TestClient) -> None:
    bot_a = ApiCredentials(api_key="bot-a", secret=SECRET, passphrase="p")
    bot_b = ApiCredentials(api_key="bot-b", secret=SECRET, passphrase="p")
    a = ClobClient("http://testserver", http=http, credentials=bot_a)
    b = ClobClient("http://testserver", http=http, credentials=bot_b)
    token = live_window(a).down_token
    mine = a.place(order("same-coid", token, "BUY", "0.02", "5"))
    theirs = b.place(order("same-coid", token, "BUY", "0.02", "5"))
    assert mine.order_id != theirs.order_id  # the owner is part of the order id
    assert b.cancel(mine.order_id) is False
    assert b.get_order(mine.order_id) is None
    assert b.cancel_all() == [theirs.order_id]
    assert [o.order_id for o in a.open_orders()] == [mine.order_id]
