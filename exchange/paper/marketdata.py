"""Market metadata and price reads the SDK makes: tick, neg-risk, fee data, batch prices.

Shapes are those polymarket-client parses (see docs/venue.md): `/clob-markets`
is the compact market record (`t` tokens, `mts` tick, `nr` neg-risk, `fd`
fee data `{r: rate, e: exponent}`), `/markets-by-token` names the condition.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from exchange.paper.books import SyntheticBook
from exchange.paper.engine import NO_BOOK, PaperEngine
from exchange.paper.errors import bad_request, not_found
from exchange.paper.models import PaperWindow

UINT256_MAX = str(2**256 - 1)
UNIT = Decimal(1_000_000)


class MarketData:
    def __init__(self, engine: PaperEngine) -> None:
        self.engine = engine
        self.config = engine.config
        self.store = engine.store

    def _window_of_token(self, token_id: str) -> PaperWindow:
        ref = self.store.token_ref(token_id)
        window = self.store.window(ref[0]) if ref else None
        if window is None:
            raise not_found("market not found")
        return window

    def _book(self, token_id: str) -> SyntheticBook:
        with self.engine.lock:
            book = self.engine.book_at(token_id, self.engine.advance())
        if book is None:
            raise not_found(NO_BOOK)
        return book

    def tick_size(self, token_id: str) -> dict[str, Any]:
        self._window_of_token(token_id)
        return {"minimum_tick_size": float(self.config.tick_size)}

    def neg_risk(self, token_id: str) -> dict[str, Any]:
        self._window_of_token(token_id)
        return {"neg_risk": False}

    def market_by_token(self, token_id: str) -> dict[str, Any]:
        window = self._window_of_token(token_id)
        other = window.down_token if token_id == window.up_token else window.up_token
        return {"condition_id": window.condition_id, "primary_token_id": window.up_token,
                "secondary_token_id": other}  # fmt: skip

    def clob_market(self, condition_id: str) -> dict[str, Any]:
        slug = self.store.slug_of_condition(condition_id)
        window = self.store.window(slug) if slug else None
        if window is None:
            raise not_found("market not found")
        return {
            "c": window.condition_id,
            "t": [{"t": window.up_token, "o": "Up"}, {"t": window.down_token, "o": "Down"}],
            "mts": float(self.config.tick_size),
            "mos": float(self.config.min_order_size),
            "nr": False,
            "fd": {"r": float(self.config.fee_rate), "e": float(self.config.fee_exponent)},
        }

    def midpoints(self, token_ids: list[str]) -> dict[str, str]:
        return {t: str(b.mid(self.config.tick_size)) for t, b in self._books(token_ids).items()}

    def prices(self, requests: list[tuple[str, str]]) -> dict[str, dict[str, str]]:
        books = self._books([t for t, _ in requests])
        out: dict[str, dict[str, str]] = {}
        for token_id, side in requests:
            book = books.get(token_id)
            best = None if book is None else book.best_ask if side == "BUY" else book.best_bid
            if best is not None:
                out.setdefault(token_id, {})[side] = str(best)
        return out

    def spread(self, token_id: str) -> dict[str, str]:
        book = self._book(token_id)
        if book.best_bid is None or book.best_ask is None:
            raise not_found(NO_BOOK)
        return {"spread": str(book.best_ask - book.best_bid)}

    def last_trade_price(self, token_id: str) -> dict[str, str]:
        """The synthetic flow trades at the mid; side BUY (the paper venue has no tape)."""
        return {"price": str(self._book(token_id).mid(self.config.tick_size)), "side": "BUY"}

    def _books(self, token_ids: list[str]) -> dict[str, SyntheticBook]:
        with self.engine.lock:
            now = self.engine.advance()
            found = {t: self.engine.book_at(t, now) for t in dict.fromkeys(token_ids)}
        return {t: b for t, b in found.items() if b is not None}

    def balance_allowance(
        self, owner: str, asset_type: str, token_id: str | None
    ) -> dict[str, Any]:
        """pUSD (COLLATERAL) or shares of one token (CONDITIONAL), in 1e-6 units."""
        engine = self.engine
        with engine.lock:
            engine.advance()
            if asset_type == "COLLATERAL":
                amount = engine.desk.balance(owner)
            elif asset_type in ("CONDITIONAL", "CONDITIONAL-V2") and token_id:
                amount = Decimal(self.store.positions(owner).get(token_id, "0"))
            else:
                raise bad_request("invalid asset_type/token_id")
        units = math.floor(max(amount, Decimal(0)) * UNIT)
        allowances = {exchange: UINT256_MAX for exchange in engine.contracts.exchanges()}
        return {"balance": str(units), "allowances": allowances}
