"""Retries, back-off, 429 handling, typed errors and auth headers, against scripted answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from exchange import (
    ApiCredentials,
    AuthError,
    BadRequest,
    ClobClient,
    MalformedResponse,
    OrderRejected,
    RateLimited,
    RetryPolicy,
    VenueUnavailable,
)
from exchange.auth import H_API_KEY, H_SIGNATURE, l2_signature
from exchange.http import parse_retry_after
from state_store.errors import NeverblinkError, OperationalError, TemporaryError
from tests.exchange.helpers import order

Handler = Callable[[httpx.Request], httpx.Response]
POLICY = RetryPolicy(retries=2, backoff_s=0.01, max_backoff_s=0.05, rate_limit_waits=2)
ORDER_OK = {
    "success": True,
    "orderID": "",
    "status": "live",
    "makingAmount": "",
    "takingAmount": "",
}


class Script:
    """Answers requests from a list, one per request, and records them."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def client(self, **kwargs: object) -> ClobClient:
        kwargs.setdefault("sleep", self.sleeps.append)
        http = httpx.Client(transport=httpx.MockTransport(self))
        return ClobClient(
            "http://venue.test",
            http=http,
            retry=POLICY,
            **kwargs,  # type: ignore[arg-type]
        )


def ok(payload: object, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=payload, headers=headers)


def test_idempotent_get_retries_5xx_and_timeouts() -> None:
    script = Script(ok({"error": "boom"}, 502), httpx.ReadTimeout("slow"), ok(1_700_000_000))
    assert script.client().server_time() == 1_700_000_000
    assert len(script.requests) == 3
    assert len(script.sleeps) == 2 and all(0 < s <= 0.05 for s in script.sleeps)


def test_gives_up_as_venue_unavailable() -> None:
    script = Script(*(ok({"error": "down"}, 503) for _ in range(3)))
    with pytest.raises(VenueUnavailable) as raised:
        script.client().server_time()
    assert isinstance(raised.value, TemporaryError) and raised.value.status == 503
    assert len(script.requests) == 3  # first try + 2 retries


def test_post_order_is_retried_because_the_order_id_makes_it_idempotent() -> None:
    script = Script(httpx.ReadTimeout("lost reply"), ok(ORDER_OK))
    client = script.client()
    req = order("c1", "123", "BUY", "0.5")
    result = client.place(req)
    assert result.order_id == client.order_id_for(req)
    bodies = [r.content for r in script.requests]
    assert len(bodies) == 2 and bodies[0] == bodies[1]  # the very same signed order


def test_non_idempotent_request_is_retried_only_on_connect_errors() -> None:
    from exchange.http import HttpSession

    script = Script(httpx.ConnectError("refused"), httpx.ReadTimeout("lost"))
    session = HttpSession(
        "http://venue.test",
        http=httpx.Client(transport=httpx.MockTransport(script)),
        policy=POLICY,
        sleep=script.sleeps.append,
    )
    with pytest.raises(VenueUnavailable):
        session.request("POST", "/not-idempotent", body={}, idempotent=False)
    assert len(script.requests) == 2


def test_429_waits_retry_after_then_succeeds() -> None:
    script = Script(ok({"error": "Too Many Requests"}, 429, **{"Retry-After": "2"}), ok(5))
    assert script.client().server_time() == 5
    assert script.sleeps == [2.0]


def test_429_with_a_long_retry_after_is_not_waited_for() -> None:
    script = Script(ok({"error": "Too Many Requests"}, 429, **{"Retry-After": "60"}))
    with pytest.raises(RateLimited) as raised:
        script.client().server_time()
    assert raised.value.retry_after == 60.0 and isinstance(raised.value, TemporaryError)
    assert script.sleeps == []


def test_429_gives_up_after_the_allowed_waits() -> None:
    script = Script(*(ok({"error": "Too Many Requests"}, 429) for _ in range(3)))
    with pytest.raises(RateLimited):
        script.client().server_time()
    assert len(script.sleeps) == 2


def test_retry_after_formats() -> None:
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def test_errors_are_typed() -> None:
    script = Script(
        ok({"error": "invalid price"}, 400),
        ok({"error": "Unauthorized/Invalid api key"}, 401),
        ok({"error": "order not found"}, 404),
        ok({"error": "Invalid payload"}, 400),
        httpx.Response(200, content=b"not json"),
    )
    client = script.client()
    with pytest.raises(OrderRejected, match="invalid price") as rejected:
        client.place(order("c1", "123", "BUY", "0.5"))
    assert not isinstance(rejected.value, TemporaryError | OperationalError)
    with pytest.raises(AuthError) as refused:
        client.open_orders()
    assert isinstance(refused.value, OperationalError)
    assert client.get_order("0xabc") is None
    with pytest.raises(BadRequest):
        client.cancel("0xabc")
    with pytest.raises(MalformedResponse):
        client.server_time()


def test_midpoint_accepts_both_spellings() -> None:
    script = Script(ok({"mid": "0.45"}), ok({"mid_price": "0.46"}))
    client = script.client()
    assert client.midpoint("1") == Decimal("0.45")
    assert client.midpoint("1") == Decimal("0.46")


def test_books_do_not_trust_level_order() -> None:
    book = {
        "market": "0xm",
        "asset_id": "1",
        "timestamp": "1700000000123",
        "bids": [
            {"price": "0.40", "size": "5"},
            {"price": "0.48", "size": "1"},
            {"price": "0.45", "size": "2"},
        ],
        "asks": [
            {"price": "0.60", "size": "5"},
            {"price": "0.52", "size": "1"},
            {"price": "0.55", "size": "0"},
        ],
        "tick_size": "0.01",
        "min_order_size": "5",
    }
    [got] = Script(ok([book])).client().books(["1"]).values()
    assert got.best_bid == Decimal("0.48") and got.best_ask == Decimal("0.52")
    assert [lvl.price for lvl in got.asks] == [
        Decimal("0.52"),
        Decimal("0.60"),
    ]  # empty level dropped
    assert got.timestamp == pytest.approx(1_700_000_000.123)


def test_l2_headers_only_with_credentials() -> None:
    secret = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
    creds = ApiCredentials(api_key="key-1", secret=secret, passphrase="pp", address="0xabc")
    script = Script(ok({"canceled": ["0x1"], "not_canceled": {}}), ok(1))
    client = script.client(credentials=creds)
    assert client.cancel("0x1") is True
    signed = script.requests[0]
    assert signed.headers[H_API_KEY] == "key-1"
    body = signed.content.decode()
    assert json.loads(body) == {"orderID": "0x1"}
    timestamp = signed.headers["POLY_TIMESTAMP"]
    assert signed.headers[H_SIGNATURE] == l2_signature(secret, timestamp, "DELETE", "/order", body)
    client.server_time()  # public route: no auth headers
    assert H_API_KEY not in script.requests[1].headers

    anonymous = Script(ok({"canceled": [], "not_canceled": {}}))
    anonymous.client().cancel("0x1")
    assert H_API_KEY not in anonymous.requests[0].headers


def test_signer_owner_must_match_the_api_key() -> None:
    from exchange import PaperSigner

    creds = ApiCredentials(api_key="key-1", secret="c2VjcmV0", passphrase="pp")
    with pytest.raises(ValueError, match="owner"):
        ClobClient("http://venue.test", credentials=creds, signer=PaperSigner("someone-else"))


class FakeClock:
    """Monotonic time that moves only when the test (or a wait) moves it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_call_never_outlives_its_deadline() -> None:
    """A venue that stops answering: each try gets what is left, none starts past the deadline."""
    clock = FakeClock()
    timeouts: list[float] = []

    def frozen(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        clock.now += 0.4  # the read times out after 0.4 s
        raise httpx.ReadTimeout("no answer", request=request)

    many = RetryPolicy(retries=50, backoff_s=0.05, max_backoff_s=0.1)
    client = ClobClient(
        "http://venue.test", http=httpx.Client(transport=httpx.MockTransport(frozen)),
        retry=many, sleep=clock.sleep, clock=clock, timeout=1.0,
    )  # fmt: skip
    with pytest.raises(VenueUnavailable) as raised:
        client.server_time()
    assert isinstance(raised.value, TemporaryError) and isinstance(raised.value, NeverblinkError)
    assert clock.now - 1000.0 <= 1.0 + 0.4  # the last try may use what was left, no more
    assert timeouts[0] == pytest.approx(1.0)
    assert all(0 < t <= 1.0 for t in timeouts) and timeouts == sorted(timeouts, reverse=True)
    assert 2 <= len(timeouts) < 50  # retried, but the deadline, not the policy, ended it


def test_a_retry_after_past_the_deadline_is_not_waited_for() -> None:
    clock = FakeClock()
    script = Script(ok({"error": "Too Many Requests"}, 429, **{"Retry-After": "3"}), ok(5))
    with pytest.raises(RateLimited):
        script.client(sleep=clock.sleep, clock=clock, timeout=2.0).server_time()
    assert clock.sleeps == [] and len(script.requests) == 1


def test_403_is_a_restricted_account_and_operational() -> None:
    from exchange import AccountRestricted

    script = Script(ok({"error": "Trading restricted in your region"}, 403))
    with pytest.raises(AccountRestricted, match="restricted") as raised:
        script.client().open_orders()
    assert isinstance(raised.value, OperationalError)
