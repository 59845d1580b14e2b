"""Bad input gets a 4xx with `{"error": ...}`, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from exchange import ClobClient
from exchange.paper import ManualClock
from tests.exchange.conftest import START, WINDOW, TestClient
from tests.exchange.helpers import live_window, order, order_body, raw_order_body


def assert_error(response: Any, status: int, fragment: str = "") -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error"} and isinstance(payload["error"], str)
    assert fragment.lower() in payload["error"].lower(), payload


@pytest.fixture
def up_token(venue: ClobClient) -> str:
    return live_window(venue).up_token


def post(http: TestClient, body: Any) -> Any:
    return http.post("/order", json=body)


@pytest.mark.parametrize(
    ("price", "size", "fragment"),
    [
        ("0.505", "10", "tick size"),
        ("0", "10", "within"),
        ("1", "10", "within"),
        ("0.5", "4.99", "minimum order size"),
        ("0.5", "1e12", "above"),
    ],
)
def test_order_values_are_checked(
    http: TestClient, up_token: str, price: str, size: str, fragment: str
) -> None:
    assert_error(post(http, order_body(order("c", up_token, "BUY", price, size))), 400, fragment)


def test_signed_amounts_are_checked(http: TestClient, up_token: str) -> None:
    """V2 orders carry no price or size: the venue reads them from the signed amounts."""
    req = order("c", up_token, "BUY", "0.5", "10")
    too_fine = raw_order_body(req, maker_amount=5_000_500, taker_amount=10_001_000)
    assert_error(post(http, too_fine), 400, "two decimals")
    usdc_too_fine = raw_order_body(req, maker_amount=5_000_001, taker_amount=10_000_000)
    assert_error(post(http, usdc_too_fine), 400, "tick size")
    fak = order("f", up_token, "BUY", "0.5", "10", "FAK")
    assert_error(post(http, raw_order_body(fak, maker_amount=5_000_100)), 400, "decimals")


def test_v1_bodies_get_order_version_mismatch(http: TestClient, up_token: str) -> None:
    body = order_body(order("c", up_token, "BUY", "0.5"))
    v1 = {**body, "order": {**body["order"], "taker": "0x" + "0" * 40, "nonce": "0"}}
    assert_error(post(http, v1), 400, "order_version_mismatch")
    fee_only = {**body, "order": {**body["order"], "feeRateBps": "0"}}
    assert_error(post(http, fee_only), 400, "order_version_mismatch")


def test_unknown_token_and_closed_market(
    http: TestClient, up_token: str, clock: ManualClock
) -> None:
    assert_error(post(http, order_body(order("c", "12345", "BUY", "0.5"))), 400, "invalid token")
    clock.advance(WINDOW)
    assert_error(post(http, order_body(order("c", up_token, "BUY", "0.5"))), 400, "closed")
    assert_error(http.get("/book", params={"token_id": up_token}), 404, "no orderbook")


def test_signature_owner_amounts_and_expiration(http: TestClient, up_token: str) -> None:
    body = order_body(order("c", up_token, "BUY", "0.5"))
    tampered = {**body, "order": {**body["order"], "makerAmount": "4000000"}}
    assert_error(post(http, tampered), 400, "signature")
    assert_error(post(http, {**body, "owner": "someone"}), 400, "owner")
    assert_error(
        post(http, {**body, "orderType": "GTD"}), 400, "expiration"
    )  # GTD with expiration 0
    gtc_with_expiry = order_body(order("c", up_token, "BUY", "0.5", expiration=START + 5))
    assert_error(post(http, gtc_with_expiry), 400, "must be 0")
    past_gtd = order_body(order("c", up_token, "BUY", "0.5", order_type="GTD", expiration=START))
    assert_error(post(http, past_gtd), 400, "future")


def test_fill_or_kill_and_fill_and_kill(http: TestClient, up_token: str) -> None:
    fok = order_body(order("fok", up_token, "BUY", "0.02", "10", "FOK"))
    assert_error(post(http, fok), 400, "FOK")
    fak = order_body(order("fak", up_token, "BUY", "0.02", "10", "FAK"))
    assert_error(post(http, fak), 400, "FAK")
    assert_error(post(http, order_body(order("s", up_token, "SELL", "0.5"))), 400, "balance")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"{not json", "malformed"),
        (b"[]", "invalid payload"),
        (b'"text"', "invalid payload"),
        (b"{}", "order"),
        (b'{"order": {}, "owner": "paper", "orderType": "GTC"}', "order."),
        (b'{"order": 1, "owner": "paper", "orderType": "GTC"}', "order"),
        (b'{"order": {"salt": "x"}, "owner": 5, "orderType": "NOPE"}', "invalid payload"),
        (b"\xff\xfe\x00", "invalid payload"),
    ],
)
def test_malformed_bodies(http: TestClient, content: bytes, fragment: str) -> None:
    response = http.post("/order", content=content, headers={"content-type": "application/json"})
    assert_error(response, 400, fragment)


def test_wrong_field_types(http: TestClient, up_token: str) -> None:
    body = order_body(order("c", up_token, "BUY", "0.5"))
    for field, value in [
        ("makerAmount", 0.5),
        ("salt", "abc"),
        ("side", "buy"),
        ("tokenId", None),
        ("timestamp", None),
    ]:
        broken = {**body, "order": {**body["order"], field: value}}
        assert_error(post(http, broken), 400, field)


def test_other_routes_reject_bad_input(http: TestClient) -> None:
    assert_error(http.get("/book"), 400, "token id")
    assert_error(http.get("/book", params={"token_id": "x" * 500}), 400, "token id")
    assert_error(http.get("/midpoint", params={"token_id": "1"}), 404, "no orderbook")
    assert_error(http.get("/price", params={"token_id": "1", "side": "UP"}), 400, "side")
    assert_error(http.post("/books", json=[{"nope": 1}]), 400, "token_id")
    assert_error(http.post("/books", json=[{"token_id": "1"}] * 501), 400, "exceeds")
    assert_error(http.get("/markets", params={"next_cursor": "%%%"}), 400, "cursor")
    assert_error(http.get("/markets", params={"next_cursor": "LTE="}), 400, "cursor")
    assert_error(http.get("/markets/0xnothing"), 404, "not found")
    assert_error(http.get("/data/trades", params={"after": "yesterday"}), 400, "after")
    assert_error(http.get("/data/order/0xnothing"), 404, "not found")
    assert_error(http.request("DELETE", "/order", json={"id": "x"}), 400, "orderID")
    assert_error(http.get("/paper/reference", params={"asset": "doge"}), 400, "asset")
    assert_error(http.get("/no/such/route"), 404)
    assert_error(http.put("/order"), 405)
    assert_error(http.get("/book", params={"token_id": "1"}, headers={"POLY_API_KEY": ""}), 404)
    assert http.request("DELETE", "/order", json={"orderID": "0x1"}).json() == {
        "canceled": [],
        "not_canceled": {"0x1": "order not found"},
    }
