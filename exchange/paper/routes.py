"""The paper venue's HTTP routes: CLOB REST paths and shapes, plus a few `/paper/*` extensions.

Handlers are thin: parse, authenticate, rate-limit, call the engine. They are
plain `def`s, so Starlette runs them in its thread pool; the engine's lock
serialises the work.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from exchange.auth import DEFAULT_OWNER, H_API_KEY, ApiCredentials, verify_l2
from exchange.paper.bodies import MAX_STR, BookRequest, CancelRequest, PostOrderRequest
from exchange.paper.engine import PaperEngine
from exchange.paper.errors import ApiError, bad_request
from exchange.paper.queries import OwnerQueries
from exchange.paper.ratelimit import RateLimiter, retry_after_header

MAX_BOOKS = 500
UNAUTHORIZED = "Unauthorized/Invalid api key"

router = APIRouter()


def engine_of(request: Request) -> PaperEngine:
    return cast(PaperEngine, request.app.state.engine)


def queries_of(request: Request) -> OwnerQueries:
    return cast(OwnerQueries, request.app.state.queries)


async def owner_of(request: Request) -> str:
    """The request's owner: its API key (checked when the venue has credentials) or the default."""
    key = request.headers.get(H_API_KEY)
    credentials = cast(dict[str, ApiCredentials], request.app.state.credentials)
    if key is not None and (not key or len(key) > MAX_STR):
        raise ApiError(401, UNAUTHORIZED)
    if not credentials:
        return key or DEFAULT_OWNER
    creds = credentials.get(key or "")
    if creds is None:
        raise ApiError(401, UNAUTHORIZED)
    body = (await request.body()).decode("utf-8", errors="replace")
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(raw_path)
    if not verify_l2(creds, request.headers, request.method, path, body):
        raise ApiError(401, UNAUTHORIZED)
    return creds.api_key


def rate_limited(route: str) -> Any:
    def check(request: Request) -> None:
        limiter = cast(RateLimiter, request.app.state.limiter)
        wait = limiter.check(route)
        if wait is not None:
            raise ApiError(429, "Too Many Requests", {"Retry-After": retry_after_header(wait)})

    return Depends(check)


Owner = Annotated[str, Depends(owner_of)]


def _token(token_id: str | None) -> str:
    if not token_id or len(token_id) > MAX_STR:
        raise bad_request("Invalid token id")
    return token_id


# -- public market data ------------------------------------------------------
@router.get("/")
def health() -> PlainTextResponse:
    return PlainTextResponse("OK")


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


# -- trading (L2) ------------------------------------------------------------
@router.post("/order", dependencies=[rate_limited("POST /order")])
def post_order(request: Request, body: PostOrderRequest, owner: Owner) -> Any:
    return engine_of(request).place(body, owner)


@router.delete("/order")
def cancel_order(request: Request, body: CancelRequest, owner: Owner) -> Any:
    return engine_of(request).cancel(body.orderID, owner)


@router.delete("/cancel-all")
def cancel_all(request: Request, owner: Owner) -> Any:
    return engine_of(request).cancel_all(owner)


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


@router.get("/paper/info")
def info(request: Request) -> Any:
    return engine_of(request).info()
