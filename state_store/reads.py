"""Reads of the state store: the per-tick snapshot and the operator's listings."""

from __future__ import annotations

from typing import Any, cast

import redis

from state_store.codec import fill_from, order_from, position_from, window_from
from state_store.keys import Keys
from state_store.models import Fill, MarketSnapshot, Order, Position, Window
from state_store.scripts import Scripts


def _pairs(flat: list[Any]) -> dict[str, str]:
    """HGETALL as a Lua script returns it (a flat list) -> dict."""
    items = [v.decode() if isinstance(v, bytes) else str(v) for v in flat]
    return dict(zip(items[::2], items[1::2], strict=True))


class StoreReads:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self.scripts = Scripts(client)

    def snapshot(self, markets: list[str]) -> dict[str, MarketSnapshot]:
        """Window, position and open orders of each market, in one round trip."""
        if not markets:
            return {}
        k = self.keys
        keys = [key for m in markets for key in (k.window(m), k.position(m), k.pending_market(m))]
        raw = self.scripts["snapshot"](keys=keys, args=[k.order_prefix], client=self.client)
        out: dict[str, MarketSnapshot] = {}
        for market, (win, pos, orders) in zip(markets, raw, strict=True):
            parsed = [order_from(_pairs(o)) for o in orders]
            open_orders = tuple(sorted((o for o in parsed if o), key=lambda o: o.created_at))
            out[market] = MarketSnapshot(
                market, window_from(_pairs(win)), position_from(market, _pairs(pos)), open_orders
            )
        return out

    def unconfirmed_fills(self) -> list[Fill]:
        """Fills counted from a MATCHED venue trade that is not CONFIRMED yet, oldest first."""
        ids = self._members(self.keys.unconfirmed_fills)
        fills = self._pipeline_hgetall([self.keys.fill(i) for i in ids])
        parsed = [fill_from(f) for f in fills]
        return sorted((f for f in parsed if f is not None), key=lambda f: f.ts)

    def prices(self, asset: str, since_ts: float, until_ts: float) -> list[tuple[float, str]]:
        """The asset's reference prices stamped in [since_ts, until_ts], oldest first."""
        low, high = round(since_ts * 1000), round(until_ts * 1000)
        rows = cast(list[Any], self.client.xrange(self.keys.prices(asset), f"{low}-0", f"{high}-0"))
        out = []
        for entry_id, fields in rows:
            ms = int(str(entry_id).split("-")[0])
            out.append((ms / 1000.0, str(fields.get("p", ""))))
        return out

    def _hash(self, key: str) -> dict[str, str]:
        return cast(dict[str, str], self.client.hgetall(key))

    def _members(self, key: str) -> list[str]:
        return sorted(cast(set[str], self.client.smembers(key)))

    def order(self, coid: str) -> Order | None:
        return order_from(self._hash(self.keys.order(coid)))

    def fill(self, fill_id: str) -> Fill | None:
        return fill_from(self._hash(self.keys.fill(fill_id)))

    def window(self, market: str) -> Window | None:
        return window_from(self._hash(self.keys.window(market)))

    def position(self, market: str) -> Position:
        return position_from(market, self._hash(self.keys.position(market)))

    def markets(self) -> list[str]:
        return self._members(self.keys.markets)

    def open_markets(self) -> list[str]:
        return self._members(self.keys.open_markets)

    def unsettled_markets(self) -> list[str]:
        return self._members(self.keys.unsettled)

    def windows(self) -> list[Window]:
        return [w for w in self._hgetall_many(self.keys.window, self.markets(), window_from) if w]

    def positions(self) -> list[Position]:
        markets = self.markets()
        rows = self._pipeline_hgetall([self.keys.position(m) for m in markets])
        return [position_from(m, f) for m, f in zip(markets, rows, strict=True) if f]

    def pending_orders(self) -> list[Order]:
        coids = self._members(self.keys.pending)
        orders = self._hgetall_many(self.keys.order, coids, order_from)
        return sorted((o for o in orders if o), key=lambda o: o.created_at)

    def market_orders(self, market: str) -> list[Order]:
        """Every order ever created for a market, oldest first."""
        coids = self._members(self.keys.market_orders(market))
        orders = self._hgetall_many(self.keys.order, coids, order_from)
        return sorted((o for o in orders if o), key=lambda o: o.created_at)

    def _pipeline_hgetall(self, keys: list[str]) -> list[dict[str, str]]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        return list(pipe.execute())

    def _hgetall_many(self, key_of: Any, ids: list[str], parse: Any) -> list[Any]:
        return [parse(f) for f in self._pipeline_hgetall([key_of(i) for i in ids])]
