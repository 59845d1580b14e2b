"""`ClobClient`: the `Venue` over the CLOB REST API (the paper venue today, the real CLOB later).

There is no default base URL: the caller always says where to go. Pass an
`httpx.Client` to control transport (tests pass `starlette.testclient.TestClient`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from exchange import convert
from exchange.auth import DEFAULT_OWNER, ApiCredentials
from exchange.errors import MalformedResponse, NotFound
from exchange.http import HttpSession, Params, RetryPolicy
from exchange.signing import OrderSigner, PaperSigner
from exchange.types import (
    Book,
    MarketWindow,
    OrderRequest,
    PlaceResult,
    ReferencePrice,
    Resolution,
    Side,
    VenueFill,
    VenueOrder,
)
from exchange.wire import (
    END_CURSOR,
    START_CURSOR,
    WireBook,
    WireCancelResponse,
    WireMarket,
    WireOpenOrder,
    WirePage,
    WirePostOrderResponse,
    WireTrade,
)

logger = logging.getLogger(__name__)

BOOKS_PER_REQUEST = 500
CURSOR_VERSION = "v1"


class ClobClient:
    """Implements `exchange.venue.Venue`. Thread-compatible, not thread-safe: one per runner."""

    def __init__(
        self,
        base_url: str,
        *,
        signer: OrderSigner | None = None,
        credentials: ApiCredentials | None = None,
        http: httpx.Client | None = None,
        timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_pages: int = 100,
    ) -> None:
        """`timeout` is the deadline of one venue call in seconds, retries included."""
        owner = credentials.api_key if credentials is not None else DEFAULT_OWNER
        self.signer: OrderSigner = signer if signer is not None else PaperSigner(owner)
        if self.signer.owner != owner:
            raise ValueError(
                f"signer owner {self.signer.owner!r} must be the API key in use ({owner!r})"
            )
        self.owner = owner
        self.credentials = credentials  # None: an open paper venue's default owner
        self.max_pages = max_pages
        self._session = HttpSession(
            base_url,
            http=http,
            timeout=timeout,
            policy=retry,
            credentials=credentials,
            sleep=sleep,
            clock=clock,
        )
        self._condition_ids: dict[str, str] = {}  # slug -> condition id

    @property
    def base_url(self) -> str:
        return self._session.base_url

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ClobClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- market data ---------------------------------------------------------
    def server_time(self) -> float:
        payload = self._get("/time")
        if isinstance(payload, dict):
            payload = payload.get("time", payload.get("ts"))
        value = convert.decimal_or_none(payload)
        if value is None:
            raise MalformedResponse(f"GET /time: unreadable {payload!r}")
        return float(value)

    def list_windows(self) -> list[MarketWindow]:
        windows = []
        for raw in self._pages("/markets", {}, auth=False):
            found = convert.window(convert.parse(WireMarket, raw, "market"))
            if found is not None:
                windows.append(found)
                self._condition_ids[found.slug] = found.condition_id
        return windows

    def market_window(self, condition_id: str) -> MarketWindow | None:
        """The Up/Down window of one condition id (listed or not); None when unknown."""
        try:
            payload = self._get(f"/markets/{quote(condition_id, safe='')}")
        except NotFound:
            return None
        return convert.window(convert.parse(WireMarket, payload, "market"))

    def books(self, token_ids: Iterable[str]) -> dict[str, Book]:
        wanted = list(dict.fromkeys(token_ids))
        found: dict[str, Book] = {}
        for i in range(0, len(wanted), BOOKS_PER_REQUEST):
            chunk = wanted[i : i + BOOKS_PER_REQUEST]
            payload = self._session.request(
                "POST", "/books", body=[{"token_id": t} for t in chunk], idempotent=True
            )
            if not isinstance(payload, list):
                raise MalformedResponse("POST /books: expected a list")
            for raw in payload:
                book = convert.book(convert.parse(WireBook, raw, "book"))
                found[book.token_id] = book
        return found

    def book(self, token_id: str) -> Book | None:
        try:
            payload = self._get("/book", {"token_id": token_id})
        except NotFound:
            return None
        return convert.book(convert.parse(WireBook, payload, "book"))

    def midpoint(self, token_id: str) -> Decimal | None:
        """The mid price; reads `mid` or, per newer docs, `mid_price`."""
        try:
            payload = self._get("/midpoint", {"token_id": token_id})
        except NotFound:
            return None
        if not isinstance(payload, dict):
            raise MalformedResponse("GET /midpoint: expected an object")
        return convert.decimal_or_none(payload.get("mid", payload.get("mid_price")))

    def price(self, token_id: str, side: Side) -> Decimal | None:
        """Best price for `side`: what a BUY pays (best ask), what a SELL gets (best bid)."""
        try:
            payload = self._get("/price", {"token_id": token_id, "side": side})
        except NotFound:
            return None
        if not isinstance(payload, dict):
            raise MalformedResponse("GET /price: expected an object")
        return convert.decimal_or_none(payload.get("price"))

    def reference_price(self, asset: str) -> ReferencePrice:
        """Paper venue extension: the underlying's current price (the real CLOB has none)."""
        payload = self._get("/paper/reference", {"asset": asset})
        try:
            return ReferencePrice(
                asset=str(payload["asset"]),
                price=Decimal(str(payload["price"])),
                ts=float(payload["ts"]),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise MalformedResponse(f"GET /paper/reference: unreadable {payload!r}") from exc

    def paper_info(self) -> dict[str, Any]:
        """Paper venue extension: its name, clock, assets and window lengths (`/paper/info`)."""
        payload = self._get("/paper/info")
        if not isinstance(payload, dict):
            raise MalformedResponse(f"GET /paper/info: unreadable {payload!r}")
        return payload

    def resolution(self, slug: str, condition_id: str = "") -> Resolution | None:
        if condition_id:
            self._condition_ids.setdefault(slug, condition_id)
        return convert.resolution(self._market_by_slug(slug))

    # -- orders --------------------------------------------------------------
    def order_id_for(self, req: OrderRequest) -> str:
        return self.signer.sign(req).order_id

    def place(self, req: OrderRequest) -> PlaceResult:
        signed = self.signer.sign(req)
        body = signed.post_payload(self.owner)
        # idempotent: the order id is fixed by the request, a re-post returns the same order
        payload = self._session.request("POST", "/order", body=body, auth=True, idempotent=True)
        result = convert.place_result(
            convert.parse(WirePostOrderResponse, payload, "order response"), signed.order_id
        )
        if result.order_id != signed.order_id:
            logger.warning(
                "venue order id %s differs from signed id %s", result.order_id, signed.order_id
            )
        return result

    def cancel(self, order_id: str) -> bool:
        payload = self._session.request(
            "DELETE", "/order", body={"orderID": order_id}, auth=True, idempotent=True
        )
        return order_id in convert.parse(WireCancelResponse, payload, "cancel").canceled

    def cancel_all(self) -> list[str]:
        payload = self._session.request("DELETE", "/cancel-all", auth=True, idempotent=True)
        return list(convert.parse(WireCancelResponse, payload, "cancel").canceled)

    def open_orders(self) -> list[VenueOrder]:
        return [
            convert.venue_order(convert.parse(WireOpenOrder, raw, "order"))
            for raw in self._pages("/data/orders", {}, auth=True)
        ]

    def get_order(self, order_id: str) -> VenueOrder | None:
        try:
            payload = self._get(f"/data/order/{quote(order_id, safe='')}", auth=True)
        except NotFound:
            return None
        if not payload:
            return None
        return convert.venue_order(convert.parse(WireOpenOrder, payload, "order"))

    def fills_since(self, cursor: str | None) -> tuple[list[VenueFill], str]:
        """Fills after the cursor, each with its trade's status (a FAILED trade's fill comes
        too, `VenueFill.failed`). Cursor: `v1:<last match ts>:<digests of fills at that ts>`."""
        last_ts, seen = _read_cursor(cursor)
        params: dict[str, str | int] = {} if last_ts is None else {"after": last_ts - 1}
        new: list[VenueFill] = []
        for raw in self._pages("/data/trades", params, auth=True):
            for fill in convert.fills(convert.parse(WireTrade, raw, "trade"), self.owner):
                ts = int(fill.ts)
                if last_ts is not None and (
                    ts < last_ts or (ts == last_ts and convert.fill_digest(fill.fill_id) in seen)
                ):
                    continue
                new.append(fill)
        return new, _next_cursor(last_ts, seen, new)

    # -- plumbing ------------------------------------------------------------
    def _get(self, path: str, params: Params | None = None, *, auth: bool = False) -> Any:
        return self._session.request("GET", path, params=params, auth=auth, idempotent=True)

    def _pages(self, path: str, params: Params, *, auth: bool) -> Iterator[Any]:
        cursor = START_CURSOR
        for _ in range(self.max_pages):
            payload = self._get(path, {**params, "next_cursor": cursor}, auth=auth)
            page = convert.parse(WirePage, payload, f"page of {path}")
            yield from page.data
            if not page.next_cursor or page.next_cursor in (END_CURSOR, cursor):
                return
            cursor = page.next_cursor
        logger.warning("GET %s: stopped after %d pages", path, self.max_pages)

    def _market_by_slug(self, slug: str) -> WireMarket:
        condition_id = self._condition_ids.get(slug)
        if condition_id is not None:
            payload = self._get(f"/markets/{quote(condition_id, safe='')}")
            return convert.parse(WireMarket, payload, "market")
        # `slug` is a paper venue filter; a venue that ignores it returns other markets
        payload = self._get("/markets", {"slug": slug})
        for raw in convert.parse(WirePage, payload, "page of /markets").data:
            market = convert.parse(WireMarket, raw, "market")
            if market.market_slug == slug:
                self._condition_ids[slug] = market.condition_id
                return market
        raise NotFound(f"unknown market {slug!r}")


def _read_cursor(cursor: str | None) -> tuple[int | None, frozenset[str]]:
    if not cursor:
        return None, frozenset()
    parts = cursor.split(":")
    if len(parts) != 3 or parts[0] != CURSOR_VERSION or not parts[1].isdigit():
        raise ValueError(f"not a fills cursor of this client: {cursor!r}")
    return int(parts[1]), frozenset(d for d in parts[2].split(",") if d)


def _next_cursor(last_ts: int | None, seen: frozenset[str], new: list[VenueFill]) -> str:
    top = max([int(f.ts) for f in new] + ([] if last_ts is None else [last_ts]), default=None)
    if top is None:
        return f"{CURSOR_VERSION}:0:"
    digests = {convert.fill_digest(f.fill_id) for f in new if int(f.ts) == top}
    if top == last_ts:
        digests |= seen
    return f"{CURSOR_VERSION}:{top}:{','.join(sorted(digests))}"
