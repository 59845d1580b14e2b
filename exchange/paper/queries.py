"""Owner-scoped reads: open orders, one order, trades, and the paper account."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from exchange.paper import replies
from exchange.paper.engine import PaperEngine, cursor_offset
from exchange.paper.errors import bad_request, not_found


class OwnerQueries:
    def __init__(self, engine: PaperEngine) -> None:
        self.engine = engine
        self.store = engine.store

    def open_orders(
        self, owner: str, cursor: str | None, filters: Mapping[str, str | None]
    ) -> dict[str, Any]:
        """GET /data/orders: resting orders, filtered by `id`, `market`, `asset_id`."""
        offset = cursor_offset(cursor)
        with self.engine.lock:
            self.engine.advance()
            orders = [o for o in self.store.open_orders() if o.owner == owner]
        rows = [replies.order_json(o) for o in orders]
        rows = [r for r in rows if _matches(r, {"id": filters.get("id"), **_common(filters)})]
        size = self.engine.config.page_size
        return replies.page_json(rows[offset : offset + size], offset, size, len(rows))

    def order(self, order_id: str, owner: str) -> dict[str, Any]:
        """GET /data/order/{id}: one order in any state."""
        with self.engine.lock:
            self.engine.advance()
            order = self.store.order(order_id)
        if order is None or order.owner != owner:
            raise not_found("order not found")
        return replies.order_json(order)

    def trades(
        self, owner: str, cursor: str | None, after: str | None, filters: Mapping[str, str | None]
    ) -> dict[str, Any]:
        """GET /data/trades: trades matched strictly after `after` (venue unix seconds)."""
        offset = cursor_offset(cursor)
        after_ts = _int_param(after, "after")
        with self.engine.lock:
            self.engine.advance()
            raw = self.store.trades_json(self.store.owner_trade_ids(owner, after_ts))
        rows = [json.loads(text) for text in raw]
        rows = [r for r in rows if _matches(r, {"id": filters.get("id"), **_common(filters)})]
        size = self.engine.config.page_size
        return replies.page_json(rows[offset : offset + size], offset, size, len(rows))

    def account(self, owner: str) -> dict[str, Any]:
        """GET /paper/account: cash (negative: spent), winnings redeemed, fees, shares held."""
        with self.engine.lock:
            self.engine.advance()
            account = self.store.account(owner)
            positions = self.store.positions(owner)
        return {
            "owner": owner,
            "cash": account.get("cash", "0"),
            "redeemed": account.get("redeemed", "0"),
            "fees": account.get("fees", "0"),
            "positions": {t: s for t, s in positions.items() if Decimal(s) != 0},
        }


def _common(filters: Mapping[str, str | None]) -> dict[str, str | None]:
    return {"market": filters.get("market"), "asset_id": filters.get("asset_id")}


def _matches(row: Mapping[str, Any], wanted: Mapping[str, str | None]) -> bool:
    return all(value is None or row.get(key) == value for key, value in wanted.items())


def _int_param(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    stripped = text.strip()
    body = stripped[1:] if stripped.startswith("-") else stripped
    if not (body.isascii() and body.isdigit()) or len(body) > 15:
        raise bad_request(f"invalid {name} {text!r}: expected unix seconds")
    return int(stripped)
