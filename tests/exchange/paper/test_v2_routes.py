"""The V2 routes of the paper venue at the HTTP level: auth, batches, heartbeats, health."""

from __future__ import annotations

import time
from typing import Any

from eth_account import Account
from polymarket._internal.actions.auth import build_l1_auth_headers
from polymarket._internal.l1_auth import sign_api_key_auth

from exchange import ClobClient
from exchange.auth import ApiCredentials, l2_headers
from exchange.paper.apikeys import creds_json
from tests.exchange.conftest import TestClient
from tests.exchange.helpers import live_window, order, order_body


def l1_headers(account: Any, nonce: int = 0, timestamp: int | None = None) -> dict[str, str]:
    signed = sign_api_key_auth(
        account, chain_id=137, timestamp=timestamp or int(time.time()), nonce=nonce
    )
    return build_l1_auth_headers(signed)


def test_health_and_version(http: TestClient) -> None:
    assert http.get("/ok").text == "OK"
    assert http.get("/version").json() == {"version": 2}


def test_l1_issues_keys_and_checks_the_signature(http: TestClient) -> None:
    account, other = Account.create(), Account.create()
    created = http.post("/auth/api-key", headers=l1_headers(account))
    assert created.status_code == 200 and set(created.json()) == {"apiKey", "secret", "passphrase"}
    assert http.post("/auth/api-key", headers=l1_headers(account)).status_code == 400  # exists
    derived = http.get("/auth/derive-api-key", headers=l1_headers(account))
    assert derived.json() == created.json()
    assert http.get("/auth/derive-api-key", headers=l1_headers(account, nonce=1)).json() != (
        created.json()
    )
    forged = {**l1_headers(other), "POLY_ADDRESS": account.address}  # other key, my address
    assert http.get("/auth/derive-api-key", headers=forged).status_code == 401
    stale = l1_headers(account, timestamp=int(time.time()) - 3600)
    assert http.get("/auth/derive-api-key", headers=stale).status_code == 401
    assert http.post("/auth/api-key").status_code == 401


def issued(http: TestClient, account: Any) -> ApiCredentials:
    raw = http.get("/auth/derive-api-key", headers=l1_headers(account)).json()
    return ApiCredentials(raw["apiKey"], raw["secret"], raw["passphrase"], account.address)


def test_issued_keys_need_their_hmac_and_address(http: TestClient) -> None:
    account = Account.create()
    creds = issued(http, account)
    now = int(time.time())
    good = l2_headers(creds, now, "GET", "/data/orders", "")
    assert http.get("/data/orders", headers=good).status_code == 200
    assert http.get("/auth/api-keys", headers=l2_headers(creds, now, "GET", "/auth/api-keys", ""))
    wrong_address = {**good, "POLY_ADDRESS": Account.create().address}
    assert http.get("/data/orders", headers=wrong_address).status_code == 401
    tampered = {**good, "POLY_SIGNATURE": good["POLY_SIGNATURE"][::-1]}
    assert http.get("/data/orders", headers=tampered).status_code == 401
    assert creds_json(creds)["apiKey"] == creds.api_key


def test_batches_and_batch_cancels(http: TestClient, venue: ClobClient) -> None:
    token = live_window(venue).down_token
    bodies = [order_body(order(f"b{i}", token, "BUY", "0.02", "5")) for i in range(16)]
    too_many = http.post("/orders", json=bodies)
    assert too_many.status_code == 400 and "15" in too_many.json()["error"]
    assert http.post("/orders", json=[]).status_code == 400
    answers = http.post("/orders", json=bodies[:15]).json()
    assert len(answers) == 15 and all(a["success"] and a["status"] == "live" for a in answers)
    assert all(set(a) >= {"orderID", "status", "makingAmount", "takingAmount", "tradeIDs"}
               for a in answers)  # fmt: skip
    ids = [a["orderID"] for a in answers]
    canceled = http.request("DELETE", "/orders", json=[*ids[:3], "0xnope"]).json()
    assert canceled["canceled"] == ids[:3] and canceled["not_canceled"] == {
        "0xnope": "order not found"
    }
    assert http.request("DELETE", "/orders", json="x").status_code == 400


def test_heartbeat_ids_chain(http: TestClient) -> None:
    first = http.post("/v1/heartbeats", json={"heartbeat_id": ""}).json()["heartbeat_id"]
    stale = http.post("/v1/heartbeats", json={"heartbeat_id": "not-it"})
    assert stale.status_code == 400
    assert stale.json() == {"error_msg": "Invalid Heartbeat ID", "heartbeat_id": first}
    second = http.post("/v1/heartbeats", json={"heartbeat_id": first}).json()["heartbeat_id"]
    assert second != first


def test_balance_allowance_reads(http: TestClient) -> None:
    pusd = http.get("/balance-allowance", params={"asset_type": "COLLATERAL"}).json()
    assert pusd["balance"] == str(1_000_000 * 10**6) and len(pusd["allowances"]) == 3
    assert http.get("/balance-allowance", params={"asset_type": "NOPE"}).status_code == 400
    assert http.get("/balance-allowance/update").status_code == 200
