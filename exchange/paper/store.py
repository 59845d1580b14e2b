"""Redis access of the paper venue: reads, and a unit of work that commits in one MULTI.

Every state change of one request (an order, its trades, positions, the
depth it took) is buffered in a `Tx` and written with one MULTI/EXEC, so a
crash leaves either all of it or none. Reads through the `Tx` see its own
buffered writes. One venue process per venue name writes these keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import redis

from exchange.paper.models import PaperOrder, PaperWindow
from exchange.types import Outcome
from state_store.keys import VenueKeys

_DELETED = object()


class Tx:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._pipe = client.pipeline(transaction=True)
        self._hashes: dict[tuple[str, str], object] = {}
        self._dirty = False

    def hget(self, key: str, field: str) -> str | None:
        cached = self._hashes.get((key, field))
        if cached is _DELETED:
            return None
        if isinstance(cached, str):
            return cached
        return cast(str | None, self._client.hget(key, field))

    def hset(self, key: str, mapping: Mapping[str, str]) -> None:
        for field, value in mapping.items():
            self._hashes[(key, field)] = value
        values: Any = dict(mapping)
        self._pipe.hset(key, mapping=values)
        self._dirty = True

    def hdel(self, key: str, *fields: str) -> None:
        for field in fields:
            self._hashes[(key, field)] = _DELETED
        self._pipe.hdel(key, *fields)
        self._dirty = True

    def call(self, command: str, *args: Any) -> None:
        """Any other write command, buffered as is (ZADD, SADD, EXPIRE, ...)."""
        self._pipe.execute_command(command, *args)  # type: ignore[no-untyped-call]
        self._dirty = True

    def commit(self) -> None:
        if self._dirty:
            self._pipe.execute()
        self._pipe.reset()
        self._hashes.clear()
        self._dirty = False


class VenueStore:
    """Typed reads of the venue's keys."""

    def __init__(self, client: redis.Redis, keys: VenueKeys) -> None:
        self.redis = client
        self.keys = keys

    def tx(self) -> Tx:
        return Tx(self.redis)

    def meta(self) -> dict[str, str]:
        return cast(dict[str, str], self.redis.hgetall(self.keys.meta))

    def next_seq(self) -> int:
        return int(self.redis.incr(self.keys.seq))

    def window(self, slug: str) -> PaperWindow | None:
        raw = cast(dict[str, str], self.redis.hgetall(self.keys.window(slug)))
        return PaperWindow.from_hash(raw) if raw else None

    def windows(self, slugs: Iterable[str]) -> list[PaperWindow]:
        pipe = self.redis.pipeline(transaction=False)
        for slug in slugs:
            pipe.hgetall(self.keys.window(slug))
        return [PaperWindow.from_hash(raw) for raw in pipe.execute() if raw]

    def slug_of_condition(self, condition_id: str) -> str | None:
        return cast(str | None, self.redis.hget(self.keys.conditions, condition_id))

    def token_ref(self, token_id: str) -> tuple[str, Outcome] | None:
        """(slug, outcome) of a token, or None when unknown."""
        raw = cast(str | None, self.redis.hget(self.keys.tokens, token_id))
        if not raw or "|" not in raw:
            return None
        slug, outcome = raw.rsplit("|", 1)
        return slug, "Up" if outcome == "Up" else "Down"

    def unresolved(self) -> list[str]:
        return sorted(cast(set[str], self.redis.smembers(self.keys.unresolved)))

    def order(self, order_id: str) -> PaperOrder | None:
        raw = cast(dict[str, str], self.redis.hgetall(self.keys.order(order_id)))
        return PaperOrder.from_hash(raw) if raw else None

    def orders(self, order_ids: Iterable[str]) -> list[PaperOrder]:
        pipe = self.redis.pipeline(transaction=False)
        for order_id in order_ids:
            pipe.hgetall(self.keys.order(order_id))
        return [PaperOrder.from_hash(raw) for raw in pipe.execute() if raw]

    def open_orders(self) -> list[PaperOrder]:
        return self.orders(cast(list[str], self.redis.zrange(self.keys.open_orders, 0, -1)))

    def owner_order_ids(self, owner: str) -> list[str]:
        return cast(list[str], self.redis.zrange(self.keys.owner_orders(owner), 0, -1))

    def owner_trade_ids(self, owner: str, after: int | None) -> list[str]:
        low = "-inf" if after is None else f"({after}"
        return cast(list[str], self.redis.zrangebyscore(self.keys.owner_trades(owner), low, "+inf"))

    def trades_json(self, trade_ids: list[str]) -> list[str]:
        if not trade_ids:
            return []
        found = cast(list[str | None], self.redis.hmget(self.keys.trades, trade_ids))
        return [raw for raw in found if raw]

    def owners(self) -> list[str]:
        return sorted(cast(set[str], self.redis.smembers(self.keys.owners)))

    def account(self, owner: str) -> dict[str, str]:
        return cast(dict[str, str], self.redis.hgetall(self.keys.account(owner)))

    def positions(self, owner: str) -> dict[str, str]:
        return cast(dict[str, str], self.redis.hgetall(self.keys.positions(owner)))
