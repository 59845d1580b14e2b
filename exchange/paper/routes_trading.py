"""The paper venue's trading routes: API keys (L1), orders and cancels (L2), heartbeats, faults.

Order bodies are read raw and checked here, so a V1 body (taker, nonce,
feeRateBps) gets the real venue's `order_version_mismatch` rather than a
list of missing V2 fields.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import PlainTextResponse

from exchange.paper.apikeys import creds_json, verify_l1
from exchange.paper.bodies import (
    CancelRequest,
    FaultRequest,
    HeartbeatRequest,
    parse_batch,
    parse_ids,
    parse_order,
)
from exchange.paper.routes import Auth, Owner, engine_of, rate_limited

router = APIRouter()
RawBody = Annotated[Any, Body()]


# -- API keys (L1) -----------------------------------------------------------
@router.post("/auth/api-key")
def create_api_key(request: Request) -> Any:
    engine = engine_of(request)
    address, nonce = verify_l1(request.headers, engine.contracts.chain_id, time.time())
    return creds_json(engine.api_keys.create(address, nonce))


@router.get("/auth/derive-api-key")
def derive_api_key(request: Request) -> Any:
    engine = engine_of(request)
    address, nonce = verify_l1(request.headers, engine.contracts.chain_id, time.time())
    return creds_json(engine.api_keys.derive(address, nonce))


@router.get("/auth/api-keys")
def api_keys(request: Request, caller: Auth) -> Any:
    keys = engine_of(request).api_keys.keys_of(caller.address) if caller.address else []
    return {"apiKeys": keys}


@router.delete("/auth/api-key")
def delete_api_key(request: Request, caller: Auth) -> Any:
    engine_of(request).api_keys.delete(caller.owner)
    return "OK"


@router.get("/auth/ban-status/closed-only")
def closed_only(caller: Auth) -> Any:
    return {"closed_only": False}


# -- orders (L2) --------------------------------------------------------------
@router.post("/order", dependencies=[rate_limited("POST /order")])
def post_order(request: Request, body: RawBody, caller: Auth) -> Any:
    return engine_of(request).place(parse_order(body), caller.owner, caller.address)


@router.post("/orders", dependencies=[rate_limited("POST /order")])
def post_orders(request: Request, body: RawBody, caller: Auth) -> Any:
    return engine_of(request).place_batch(parse_batch(body), caller.owner, caller.address)


@router.delete("/order")
def cancel_order(request: Request, body: CancelRequest, owner: Owner) -> Any:
    return engine_of(request).cancel([body.orderID], owner)


@router.delete("/orders")
def cancel_orders(request: Request, body: RawBody, owner: Owner) -> Any:
    return engine_of(request).cancel(parse_ids(body), owner)


@router.delete("/cancel-all")
def cancel_all(request: Request, owner: Owner) -> Any:
    return engine_of(request).cancel_all(owner)


@router.post("/v1/heartbeats")
def heartbeat(request: Request, body: HeartbeatRequest, owner: Owner) -> Any:
    return engine_of(request).heartbeat(owner, body.heartbeat_id)


# -- paper extensions -----------------------------------------------------------
@router.get("/paper/faults")
def faults(request: Request) -> Any:
    engine = engine_of(request)
    return engine.faults.state(engine.clock.now())


@router.post("/paper/faults")
def set_faults(request: Request, body: FaultRequest) -> Any:
    engine = engine_of(request)
    return engine.faults.set(body, engine.clock.now())


@router.delete("/paper/faults")
def clear_faults(request: Request) -> PlainTextResponse:
    engine_of(request).faults.clear()
    return PlainTextResponse("OK")
