"""The paper venue's HTTP routes: CLOB REST paths and shapes, plus a few `/paper/*` extensions.

Handlers are thin: parse, authenticate, rate-limit, call the engine. They are
plain `def`s, so Starlette runs them in its thread pool; the engine's lock
serialises the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from exchange.auth import DEFAULT_OWNER, H_ADDRESS, H_API_KEY, ApiCredentials, verify_l2
from exchange.paper.bodies import MAX_STR, BookRequest, PriceRequest
from exchange.paper.engine import PaperEngine
from exchange.paper.errors import ApiError, bad_request
from exchange.paper.marketdata import MarketData
from exchange.paper.queries import OwnerQueries
from exchange.paper.ratelimit import RateLimiter, retry_after_header

MAX_BOOKS = 500
UNAUTHORIZED = "Unauthorized/Invalid api key"

router = APIRouter()


@dataclass(frozen=True)
class Caller:
    """Who sent an L2 request: the owner (API key) and, for keys the venue issued, their address."""

    owner: str
    address: str | None


def engine_of(request: Request) -> PaperEngine:
    return cast(PaperEngine, request.app.state.engine)


def queries_of(request: Request) -> OwnerQueries:
    return cast(OwnerQueries, request.app.state.queries)


def data_of(request: Request) -> MarketData:
    return cast(MarketData, request.app.state.market_data)


async def caller_of(request: Request) -> Caller:
    """The request's caller. Keys the venue issued (or was configured with) must sign the
    request (L2 HMAC, POLY_ADDRESS their address); with neither, any key is an open paper
    owner, and no key is the default owner."""
    key = request.headers.get(H_API_KEY)
    if key is not None and (not key or len(key) > MAX_STR):
        raise ApiError(401, UNAUTHORIZED)
    configured = cast(dict[str, ApiCredentials], request.app.state.credentials)
    issued = engine_of(request).api_keys.lookup(key) if key and key not in configured else None
    creds = configured.get(key or "") or issued
    if creds is None:
        if configured:
            raise ApiError(401, UNAUTHORIZED)
        return Caller(key or DEFAULT_OWNER, None)
    body = (await request.body()).decode("utf-8", errors="replace")
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(raw_path)
    if not verify_l2(creds, request.headers, request.method, path, body):
        raise ApiError(401, UNAUTHORIZED)
    if issued is None:  # configured keys are labels: their orders may be signed by any key
        return Caller(creds.api_key, None)
    if request.headers.get(H_ADDRESS, "").lower() != issued.address.lower():
        raise ApiError(401, UNAUTHORIZED)
    return Caller(issued.api_key, issued.address)


async def owner_of(request: Request) -> str:
    return (await caller_of(request)).owner


def rate_limited(route: str) -> Any:
    def check(request: Request) -> None:
        limiter = cast(RateLimiter, request.app.state.limiter)
        wait = limiter.check(route)
        if wait is not None:
            raise ApiError(429, "Too Many Requests", {"Retry-After": retry_after_header(wait)})

    return Depends(check)


Owner = Annotated[str, Depends(owner_of)]
Auth = Annotated[Caller, Depends(caller_of)]


def _token(token_id: str | None) -> str:
    if not token_id or len(token_id) > MAX_STR:
        raise bad_request("Invalid token id")
    return token_id


# -- public market data ------------------------------------------------------
@router.get("/")
def health() -> PlainTextResponse:
    return PlainTextResponse("OK")


@router.get("/ok")
def ok() -> PlainTextResponse:
    return PlainTextResponse("OK")


@router.get("/version")
def version() -> dict[str, int]:
    return {"version": 2}


@router.get("/time")
def server_time(request: Request) -> JSONResponse:
    engine = engine_of(request)
    with engine.lock:
        now = engine.advance()
    return JSONResponse(int(now))


@router.get("/markets")
def markets(request: Request, next_cursor: str | None = None, slug: str | None = None) -> Any:
    return engine_of(request).markets(next_cursor, slug)


@router.get("/markets/{condition_id}")
def market(request: Request, condition_id: str) -> Any:
    return engine_of(request).market(condition_id)


@router.get("/book", dependencies=[rate_limited("GET /book")])
def book(request: Request, token_id: str | None = None) -> Any:
    return engine_of(request).book(_token(token_id))


@router.post("/books", dependencies=[rate_limited("POST /books")])
def books(request: Request, body: list[BookRequest]) -> Any:
    if len(body) > MAX_BOOKS:
        raise bad_request("Payload exceeds the limit")
    return engine_of(request).books_of([item.token_id for item in body])


@router.get("/price")
def price(request: Request, token_id: str | None = None, side: str | None = None) -> Any:
    return engine_of(request).price(_token(token_id), (side or "").upper())


@router.get("/midpoint")
def midpoint(request: Request, token_id: str | None = None) -> Any:
    return engine_of(request).midpoint(_token(token_id))


@router.post("/midpoints")
def midpoints(request: Request, body: list[BookRequest]) -> Any:
    if len(body) > MAX_BOOKS:
        raise bad_request("Payload exceeds the limit")
    return data_of(request).midpoints([item.token_id for item in body])


@router.post("/prices")
def prices(request: Request, body: list[PriceRequest]) -> Any:
    if len(body) > MAX_BOOKS:
        raise bad_request("Payload exceeds the limit")
    return data_of(request).prices([(item.token_id, item.side) for item in body])


@router.get("/spread")
def spread(request: Request, token_id: str | None = None) -> Any:
    return data_of(request).spread(_token(token_id))


@router.get("/last-trade-price")
def last_trade_price(request: Request, token_id: str | None = None) -> Any:
    return data_of(request).last_trade_price(_token(token_id))


@router.get("/tick-size")
def tick_size(request: Request, token_id: str | None = None) -> Any:
    return data_of(request).tick_size(_token(token_id))


@router.get("/neg-risk")
def neg_risk(request: Request, token_id: str | None = None) -> Any:
    return data_of(request).neg_risk(_token(token_id))


@router.get("/markets-by-token/{token_id}")
def market_by_token(request: Request, token_id: str) -> Any:
    return data_of(request).market_by_token(_token(token_id))


@router.get("/clob-markets/{condition_id}")
def clob_market(request: Request, condition_id: str) -> Any:
    return data_of(request).clob_market(condition_id)


# -- owner reads (L2) ------------------------------------------------------
@router.get("/data/orders")
def open_orders(
    request: Request,
    owner: Owner,
    next_cursor: str | None = None,
    id: str | None = None,
    market: str | None = None,
    asset_id: str | None = None,
) -> Any:
    filters = {"id": id, "market": market, "asset_id": asset_id}
    return queries_of(request).open_orders(owner, next_cursor, filters)


@router.get("/data/order/{order_id}")
def get_order(request: Request, order_id: str, owner: Owner) -> Any:
    return queries_of(request).order(order_id, owner)


@router.get("/data/trades")
def trades(
    request: Request,
    owner: Owner,
    next_cursor: str | None = None,
    after: str | None = None,
    id: str | None = None,
    market: str | None = None,
    asset_id: str | None = None,
) -> Any:
    filters = {"id": id, "market": market, "asset_id": asset_id}
    return queries_of(request).trades(owner, next_cursor, after, filters)


# -- paper extensions --------------------------------------------------------
@router.get("/paper/reference")
def reference(request: Request, asset: str | None = None) -> Any:
    return engine_of(request).reference((asset or "").lower())


@router.get("/paper/account")
def account(request: Request, owner: Owner) -> Any:
    return queries_of(request).account(owner)


@router.get("/balance-allowance")
def balance_allowance(
    request: Request,
    owner: Owner,
    asset_type: str = "COLLATERAL",
    token_id: str | None = None,
    signature_type: int | None = None,
) -> Any:
    return data_of(request).balance_allowance(owner, asset_type, token_id)


@router.get("/balance-allowance/update")
def update_balance_allowance(request: Request, owner: Owner) -> Any:
    return {}


@router.get("/paper/info")
def info(request: Request) -> Any:
    return engine_of(request).info()
