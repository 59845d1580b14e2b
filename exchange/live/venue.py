"""`LiveVenue`: the `Venue` on Polymarket's CLOB V2, through polymarket-client.

HTTP goes through the SDK's transport (its L2 header resolver signs every
authenticated request; its error detection finds 425/503 restrictions);
orders are built and signed by `exchange.eip712` (the SDK's builders with
salt and timestamp from the client order id). There is no default URL:
the caller names the CLOB, so nothing reaches a real host unless told to.

Crash safety: the order id is known before posting and a re-signed order has
the same id. A post whose outcome is unknown (transport error) is looked up
by that id before it is posted again; after a crash the runner does the same
(`get_order(venue_order_id)` before re-submitting).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import httpx
from polymarket._internal.actions import account as sdk_account
from polymarket._internal.actions import auth as sdk_auth
from polymarket._internal.actions import order_heartbeats as sdk_heartbeats
from polymarket._internal.l1_auth import sign_api_key_auth
from polymarket.clients._transport import SyncTransport, TransportOptions
from polymarket.clients.secure import _make_l2_header_resolver_sync
from polymarket.errors import PolymarketError
from polymarket.models.clob import ApiKeyCreds, BalanceAllowance

from exchange import convert
from exchange.auth import ApiCredentials
from exchange.client import _next_cursor, _read_cursor
from exchange.eip712 import MAINNET, Contracts, Wallet
from exchange.errors import MalformedResponse, NotFound, VenueUnavailable
from exchange.live.errors import translate
from exchange.live.metadata import MarketMeta, MetadataCache
from exchange.signing import LiveSigner, SignedOrder
from exchange.types import (
    Book,
    MarketWindow,
    OrderRequest,
    PlaceResult,
    Resolution,
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

MAX_BATCH = 15  # POST /orders
MAX_CANCEL_BATCH = 3000  # DELETE /orders (the SDK's limit)
BOOKS_PER_REQUEST = 500
T = TypeVar("T")


class LiveVenue:
    """Implements `exchange.venue.Venue` (plus batches, heartbeats, balances). One per runner."""

    def __init__(
        self,
        clob_url: str,
        wallet: Wallet,
        credentials: ApiCredentials | None = None,
        *,
        contracts: Contracts = MAINNET,
        http: httpx.Client | None = None,
        nonce: int = 0,
        max_pages: int = 100,
        metadata_ttl_s: float = 600.0,
    ) -> None:
        if not clob_url.startswith(("http://", "https://")):
            raise ValueError(f"clob_url must be an explicit http(s) URL, got {clob_url!r}")
        self.clob_url = clob_url.rstrip("/")
        self.wallet = wallet
        self.contracts = contracts
        self.max_pages = max_pages
        options = TransportOptions(http2=False)
        self._http = http
        self._public = SyncTransport(base_url=self.clob_url, client=http, options=options)
        creds = credentials or self.create_or_derive_api_key(nonce)
        self.credentials = ApiCredentials(
            creds.api_key, creds.secret, creds.passphrase, address=wallet.address
        )
        sdk_creds = ApiKeyCreds(key=creds.api_key, secret=creds.secret, passphrase=creds.passphrase)
        self._secure = SyncTransport(
            base_url=self.clob_url,
            client=http,
            options=options,
            header_resolver=_make_l2_header_resolver_sync(wallet.account, sdk_creds),
        )
        self.metadata = MetadataCache(self._public_get, ttl_s=metadata_ttl_s)
        self.signer = LiveSigner(
            creds.api_key,
            wallet,
            tick_of=lambda token: self.market_meta(token).tick_size,
            neg_risk_of=lambda token: self.market_meta(token).neg_risk,
            contracts=contracts,
        )
        self._uncertain: set[str] = set()  # order ids whose post outcome is unknown
        self._condition_ids: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"LiveVenue(clob_url={self.clob_url!r}, wallet={self.wallet!r})"

    @property
    def owner(self) -> str:
        return self.credentials.api_key

    def close(self) -> None:
        self._public.close()
        self._secure.close()

    # -- auth (L1) -----------------------------------------------------------------
    def create_or_derive_api_key(self, nonce: int = 0) -> ApiCredentials:
        """POST /auth/api-key, or GET /auth/derive-api-key when the key exists (L1 auth)."""
        signature = sign_api_key_auth(
            self.wallet.account, chain_id=self.contracts.chain_id, timestamp=int(time.time()),
            nonce=nonce,
        )  # fmt: skip
        creds = self._call(
            "POST", "/auth/api-key", lambda: sdk_auth.create_or_derive_api_key_sync(
                self._public, signature
            ),
        )  # fmt: skip
        return ApiCredentials(creds.key, creds.secret, creds.passphrase, self.wallet.address)

    def derive_api_key(self, nonce: int = 0) -> ApiCredentials:
        signature = sign_api_key_auth(
            self.wallet.account, chain_id=self.contracts.chain_id, timestamp=int(time.time()),
            nonce=nonce,
        )  # fmt: skip
        creds = self._call(
            "GET", "/auth/derive-api-key",
            lambda: sdk_auth.derive_api_key_sync(self._public, signature),
        )  # fmt: skip
        return ApiCredentials(creds.key, creds.secret, creds.passphrase, self.wallet.address)

    # -- market data ------------------------------------------------------------------
    def server_time(self) -> float:
        payload = self._public_get("/time")
        value = convert.decimal_or_none(payload)
        if value is None:
            raise MalformedResponse(f"GET /time: unreadable {payload!r}")
        return float(value)

    def list_windows(self) -> list[MarketWindow]:
        windows = []
        for raw in self._pages(self._public, "/markets", {}):
            found = convert.window(convert.parse(WireMarket, raw, "market"))
            if found is not None:
                windows.append(found)
                self._condition_ids[found.slug] = found.condition_id
        return windows

    def books(self, token_ids: Iterable[str]) -> dict[str, Book]:
        wanted = list(dict.fromkeys(token_ids))
        found: dict[str, Book] = {}
        for i in range(0, len(wanted), BOOKS_PER_REQUEST):
            body = [{"token_id": t} for t in wanted[i : i + BOOKS_PER_REQUEST]]
            payload = self._call(
                "POST", "/books", partial(self._public.post_json, "/books", json=body)
            )
            if not isinstance(payload, list):
                raise MalformedResponse("POST /books: expected a list")
            for raw in payload:
                book = convert.book(convert.parse(WireBook, raw, "book"))
                found[book.token_id] = book
        return found

    def market_meta(self, token_id: str) -> MarketMeta:
        """Tick, neg-risk and fee data of the token's market (cached)."""
        try:
            return self._call("GET", "/clob-markets", lambda: self.metadata.meta(token_id))
        except LookupError as exc:
            raise NotFound(str(exc)) from None

    def learn_market(
        self, condition_id: str, token_ids: Iterable[str], tick_size: Decimal, neg_risk: bool,
        fee_rate: Decimal, fee_exponent: Decimal,
    ) -> bool:  # fmt: skip
        """Terms of a market found by discovery (Gamma): orders on its tokens are signed with
        them, with no `/markets-by-token` + `/clob-markets` lookup, until the record expires
        (`metadata_ttl_s`; then the CLOB's current terms are read, a tick change included).
        False when the market's record was cached already (it is kept)."""
        meta = MarketMeta(
            condition_id=condition_id, tick_size=tick_size, neg_risk=neg_risk,
            fee_rate=fee_rate, fee_exponent=fee_exponent, token_ids=frozenset(token_ids),
        )  # fmt: skip
        return self.metadata.seed(meta)

    def resolution(self, slug: str, condition_id: str = "") -> Resolution | None:
        """GET /markets/{condition_id}: `closed` and the token flagged `winner`; without a
        condition id, found through the market list first."""
        condition_id = condition_id or self._condition_ids.get(slug) or ""
        if not condition_id:
            self.list_windows()
            condition_id = self._condition_ids.get(slug, "")
        if not condition_id:
            raise NotFound(f"unknown market {slug!r}")
        market = convert.parse(WireMarket, self._public_get(f"/markets/{condition_id}"), "market")
        return convert.resolution(market)

    # -- orders -----------------------------------------------------------------------
    def sign(self, req: OrderRequest) -> SignedOrder:
        return self._call("SIGN", "order", lambda: self.signer.sign(req))

    def order_id_for(self, req: OrderRequest) -> str:
        return self.sign(req).order_id

    def place(self, req: OrderRequest) -> PlaceResult:
        signed = self.sign(req)
        if signed.order_id in self._uncertain:
            found = self.get_order(signed.order_id)
            if found is not None:
                self._uncertain.discard(signed.order_id)
                return _result_of(found)
        payload = self._post("/order", signed.post_payload(self.owner), [signed.order_id])
        self._uncertain.discard(signed.order_id)
        return convert.place_result(
            convert.parse(WirePostOrderResponse, payload, "order response"), signed.order_id
        )

    def place_many(self, reqs: Sequence[OrderRequest]) -> list[PlaceResult]:
        """POST /orders, 15 at a time; one result per request, in order."""
        results: list[PlaceResult] = []
        for i in range(0, len(reqs), MAX_BATCH):
            signed = [self.sign(r) for r in reqs[i : i + MAX_BATCH]]
            ids = [s.order_id for s in signed]
            payload = self._post("/orders", [s.post_payload(self.owner) for s in signed], ids)
            if not isinstance(payload, list) or len(payload) != len(signed):
                raise MalformedResponse("POST /orders: expected one answer per order")
            for one, raw in zip(signed, payload, strict=True):
                wire = convert.parse(WirePostOrderResponse, raw, "order response")
                results.append(convert.place_result(wire, one.order_id))
            self._uncertain.difference_update(ids)
        return results

    def cancel(self, order_id: str) -> bool:
        return order_id in self.cancel_many([order_id])

    def cancel_many(self, order_ids: Sequence[str]) -> list[str]:
        """DELETE /orders; returns the ids the venue canceled."""
        canceled: list[str] = []
        for i in range(0, len(order_ids), MAX_CANCEL_BATCH):
            chunk = list(order_ids[i : i + MAX_CANCEL_BATCH])
            send = partial(self._secure.delete_json, "/orders", json=chunk)
            payload = self._call("DELETE", "/orders", send)
            canceled += convert.parse(WireCancelResponse, payload, "cancel").canceled
        return canceled

    def cancel_all(self) -> list[str]:
        payload = self._call("DELETE", "/cancel-all", lambda: self._secure.delete_json(
            "/cancel-all"))  # fmt: skip
        return list(convert.parse(WireCancelResponse, payload, "cancel").canceled)

    def open_orders(self) -> list[VenueOrder]:
        return [
            convert.venue_order(convert.parse(WireOpenOrder, raw, "order"))
            for raw in self._pages(self._secure, "/data/orders", {})
        ]

    def get_order(self, order_id: str) -> VenueOrder | None:
        path = f"/data/order/{order_id}"
        try:
            payload = self._call("GET", path, lambda: self._secure.get_json(path))
        except NotFound:
            return None
        if not payload:
            return None
        return convert.venue_order(convert.parse(WireOpenOrder, payload, "order"))

    def fills_since(self, cursor: str | None) -> tuple[list[VenueFill], str]:
        """As `ClobClient.fills_since`; a trade the venue marks FAILED comes with that status
        (`VenueFill.failed`): the runner reverses it if it applied it as MATCHED."""
        last_ts, seen = _read_cursor(cursor)
        params: dict[str, str | int] = {} if last_ts is None else {"after": last_ts - 1}
        new: list[VenueFill] = []
        for raw in self._pages(self._secure, "/data/trades", params):
            for fill in convert.fills(convert.parse(WireTrade, raw, "trade"), self.owner):
                ts = int(fill.ts)
                if last_ts is not None and (
                    ts < last_ts or (ts == last_ts and convert.fill_digest(fill.fill_id) in seen)
                ):
                    continue
                new.append(fill)
        return new, _next_cursor(last_ts, seen, new)

    # -- account ------------------------------------------------------------------------
    def heartbeat(self, heartbeat_id: str = "") -> str:
        """POST /v1/heartbeats; returns the id to send next (the first beat arms cancel-all)."""
        path, body = sdk_heartbeats.build_send_order_heartbeat_request(heartbeat_id=heartbeat_id)
        payload = self._call("POST", path, lambda: self._secure.post_json(path, json=body))
        return sdk_heartbeats.parse_order_heartbeat(payload).heartbeat_id

    def balance_allowance(self, token_id: str | None = None) -> BalanceAllowance:
        """pUSD (no token) or one token's shares, and the exchanges' allowances (1e-6 units)."""
        path, params = sdk_account.build_balance_allowance_request(
            asset_type="CONDITIONAL" if token_id else "COLLATERAL",
            token_id=token_id,
            signature_type=self.wallet.signature_type,
        )
        payload = self._call("GET", path, lambda: self._secure.get_json(path, params=params))
        return sdk_account.parse_balance_allowance(payload)

    def taker_fee(self, token_id: str, shares: Decimal, price: Decimal) -> Decimal:
        return self.market_meta(token_id).taker_fee(shares, price)

    # -- plumbing ---------------------------------------------------------------------------
    def _call(self, method: str, path: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except PolymarketError as exc:
            raise translate(exc, method, path) from None

    def _public_get(self, path: str) -> Any:
        return self._call("GET", path, lambda: self._public.get_json(path))

    def _post(self, path: str, body: Any, order_ids: list[str]) -> Any:
        try:
            return self._call("POST", path, lambda: self._secure.post_json(path, json=body))
        except VenueUnavailable:
            self._uncertain.update(order_ids)  # it may have arrived: look it up before reposting
            raise

    def _pages(self, transport: SyncTransport, path: str, params: dict[str, Any]) -> Iterator[Any]:
        cursor = START_CURSOR
        for _ in range(self.max_pages):
            query = {**params, "next_cursor": cursor}
            payload = self._call("GET", path, partial(transport.get_json, path, params=query))
            page = convert.parse(WirePage, payload, f"page of {path}")
            yield from page.data
            if not page.next_cursor or page.next_cursor in (END_CURSOR, cursor):
                return
            cursor = page.next_cursor
        logger.warning("GET %s: stopped after %d pages", path, self.max_pages)


def _result_of(order: VenueOrder) -> PlaceResult:
    """A placement answer rebuilt from the order found at the venue (amounts from its fills)."""
    notional = order.size_matched * order.price
    making, taking = (
        (notional, order.size_matched) if order.side == "BUY" else (order.size_matched, notional)
    )
    status = {"live": "live", "matched": "matched", "canceled": "canceled"}[order.status]
    if order.status == "canceled" and order.size_matched > 0:
        status = "matched"
    return PlaceResult(
        order_id=order.order_id,
        status=status,  # type: ignore[arg-type]
        success=True,
        error="",
        making_amount=making,
        taking_amount=taking,
    )
