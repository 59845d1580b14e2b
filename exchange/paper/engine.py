"""The paper venue: one object behind every route, serialised by one lock.

Every call first advances the venue to the current venue second (once per
second): new windows are materialized, resting orders matched against each
second's book since they were last checked, and ended windows settled. Then
the call does its own work. The state lives in Redis under `pv:{<name>}:`;
the engine keeps only caches, so a new engine on the same Redis carries on.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from exchange.eip712 import MAINNET
from exchange.paper import replies
from exchange.paper.apikeys import ApiKeyStore
from exchange.paper.bodies import PostOrderRequest
from exchange.paper.books import BookMaker, SyntheticBook
from exchange.paper.clock import Anchor, VenueClock
from exchange.paper.conditions import Faults, Heartbeats
from exchange.paper.config import PaperConfig
from exchange.paper.errors import ApiError, bad_request, not_found
from exchange.paper.models import PaperWindow
from exchange.paper.orders import OrderDesk
from exchange.paper.prices import PriceProcess
from exchange.paper.settlement import Settlement
from exchange.paper.store import VenueStore
from exchange.paper.windows import WindowSchedule
from exchange.wire import decode_cursor
from state_store.keys import VenueKeys

logger = logging.getLogger(__name__)

NO_BOOK = "No orderbook exists for the requested token id"


class PaperEngine:
    def __init__(self, config: PaperConfig) -> None:
        self.config = config
        self.store = VenueStore(config.redis, VenueKeys(config.name))
        anchor, origin_ts = self._load_meta()
        self.clock = VenueClock(anchor, config.real_time)
        self.prices = PriceProcess(config.seed, config.vol, origin_ts)
        self.books = BookMaker(config, self.prices)
        self.schedule = WindowSchedule(config, self.store, self.prices)
        self.settlement = Settlement(self.store, self.prices)
        self.desk = OrderDesk(config, self.store, self.books)
        self.contracts = MAINNET
        self.api_keys = ApiKeyStore(config.redis, self.store.keys, self.contracts.chain_id)
        self.faults = Faults(config.redis, self.store.keys)
        self.heartbeats = Heartbeats(config.redis, self.store.keys, config.heartbeat_timeout_s)
        self.lock = threading.RLock()
        self._advanced_step: int | None = None

    def _load_meta(self) -> tuple[Anchor, float]:
        """Clock anchor and price origin: from Redis when this venue ran before, else new."""
        meta = self.store.meta()
        real_now = self.config.real_time()
        if meta:
            stored = Anchor(
                float(meta["anchor_real"]), float(meta["anchor_venue"]), float(meta["speed"])
            )
            anchor, origin_ts = (
                stored.with_speed(self.config.speed, real_now),
                float(meta["origin_ts"]),
            )
            if meta.get("seed") != str(self.config.seed):
                logger.warning(
                    "paper venue %s: seed changed from %s to %s, prices will jump",
                    self.config.name,
                    meta.get("seed"),
                    self.config.seed,
                )
        else:
            venue_now = self.config.start_ts if self.config.start_ts is not None else real_now
            anchor, origin_ts = Anchor(real_now, venue_now, self.config.speed), venue_now
        self.store.redis.hset(
            self.store.keys.meta,
            mapping={
                "anchor_real": repr(anchor.real),
                "anchor_venue": repr(anchor.venue),
                "speed": repr(anchor.speed),
                "origin_ts": repr(origin_ts),
                "seed": str(self.config.seed),
            },
        )
        return anchor, origin_ts

    # -- time ----------------------------------------------------------------
    def advance(self) -> float:
        """Bring the venue up to now; returns the venue time. Call with the lock held."""
        now = self.clock.now()
        step = math.floor(now)
        for owner in self.heartbeats.lapsed(self.clock.real_now()):
            cancelled = self.desk.cancel_all(owner)["canceled"]
            logger.warning("heartbeat of %s lapsed: cancelled orders %s", owner, cancelled)
        if self._advanced_step is None or step > self._advanced_step:
            self.schedule.materialize(now)
            self.desk.match_resting(now)
            self.settlement.settle_due(now)
            self._advanced_step = step
        return now

    def info(self) -> dict[str, Any]:
        with self.lock:
            now = self.advance()
        return {
            "name": self.config.name,
            "now": now,
            "speed": self.clock.anchor.speed,
            "seed": self.config.seed,
            "window_lengths": self.config.lengths(),
            "assets": list(self.config.assets),
            "tick_size": str(self.config.tick_size),
            "min_order_size": str(self.config.min_order_size),
        }

    # -- markets -------------------------------------------------------------
    def markets(self, cursor: str | None, slug: str | None) -> dict[str, Any]:
        offset = cursor_offset(cursor)
        with self.lock:
            now = self.advance()
            slugs = [slug] if slug else self.schedule.listed_slugs(now)
            windows = self.store.windows(slugs)
            page = windows[offset : offset + self.config.page_size]
            items = [replies.market_json(w, self.config, self._up_mid(w, now)) for w in page]
        return replies.page_json(items, offset, self.config.page_size, len(windows))

    def market(self, condition_id: str) -> dict[str, Any]:
        with self.lock:
            now = self.advance()
            slug = self.store.slug_of_condition(condition_id)
            window = self.store.window(slug) if slug else None
            if window is None:
                raise not_found("market not found")
            return replies.market_json(window, self.config, self._up_mid(window, now))

    def _up_mid(self, window: PaperWindow, now: float) -> Any:
        if not window.is_open(now):
            return None
        return self.books.book(window, "Up", math.floor(now)).mid(self.config.tick_size)

    # -- books ---------------------------------------------------------------
    def book(self, token_id: str) -> dict[str, Any]:
        with self.lock:
            now = self.advance()
            book = self.book_at(token_id, now)
            if book is None:
                raise not_found(NO_BOOK)
            return replies.book_json(book, self.config, now)

    def books_of(self, token_ids: list[str]) -> list[dict[str, Any]]:
        with self.lock:
            now = self.advance()
            found = [self.book_at(t, now) for t in dict.fromkeys(token_ids)]
            return [replies.book_json(b, self.config, now) for b in found if b is not None]

    def price(self, token_id: str, side: str) -> dict[str, Any]:
        if side not in ("BUY", "SELL"):
            raise bad_request("Invalid side")
        with self.lock:
            book = self.book_at(token_id, self.advance())
        best = None if book is None else book.best_ask if side == "BUY" else book.best_bid
        if best is None:
            raise not_found(NO_BOOK)
        return {"price": str(best)}

    def midpoint(self, token_id: str) -> dict[str, Any]:
        with self.lock:
            book = self.book_at(token_id, self.advance())
        if book is None:
            raise not_found(NO_BOOK)
        return {"mid": str(book.mid(self.config.tick_size))}

    def book_at(self, token_id: str, now: float) -> SyntheticBook | None:
        """The synthetic book of a token at venue time `now` (None when its window is not open)."""
        ref = self.store.token_ref(token_id)
        window = self.store.window(ref[0]) if ref else None
        if ref is None or window is None or not window.is_open(now):
            return None
        return self.books.book(window, ref[1], math.floor(now))

    def reference(self, asset: str) -> dict[str, Any]:
        if asset not in self.config.assets:
            raise bad_request(
                f"invalid asset {asset!r}: expected one of {list(self.config.assets)}"
            )
        with self.lock:
            now = self.advance()
        return {"asset": asset, "price": self.prices.quote(asset, now), "ts": now}

    # -- orders --------------------------------------------------------------
    def place(self, body: PostOrderRequest, owner: str, address: str | None) -> dict[str, Any]:
        with self.lock:
            now = self.advance()
            self.faults.check_post(now, body.postOnly)
            refuse = self.faults.balance_refused(now)
            order = self.desk.place(body, owner, address, now, refuse)
        return replies.post_order_json(order)

    def place_batch(
        self, bodies: list[PostOrderRequest], owner: str, address: str | None
    ) -> list[dict[str, Any]]:
        """POST /orders: each order on its own; a refused one answers success false."""
        with self.lock:
            now = self.advance()
            self.faults.check_post(now, all(b.postOnly for b in bodies))
            refuse = self.faults.balance_refused(now)
            out = []
            for body in bodies:
                try:
                    order = self.desk.place(body, owner, address, now, refuse)
                except ApiError as exc:
                    out.append(replies.refused_order_json(exc.message))
                else:
                    out.append(replies.post_order_json(order))
            return out

    def cancel(self, order_ids: list[str], owner: str) -> dict[str, Any]:
        with self.lock:
            self.faults.check_cancel(self.advance())
            return self.desk.cancel(order_ids, owner)

    def cancel_all(self, owner: str) -> dict[str, Any]:
        with self.lock:
            self.faults.check_cancel(self.advance())
            return self.desk.cancel_all(owner)

    def heartbeat(self, owner: str, heartbeat_id: str) -> dict[str, str]:
        with self.lock:
            self.advance()
            return self.heartbeats.beat(owner, heartbeat_id, self.clock.real_now())


def cursor_offset(cursor: str | None) -> int:
    """The offset a pagination cursor points at; ApiError(400) for a foreign or final one."""
    try:
        offset = decode_cursor(cursor)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    if offset < 0:
        raise bad_request("invalid cursor: no more pages")
    return offset
