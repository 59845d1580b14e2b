"""Matching against the synthetic depth, and recording what matched.

A taker walks the opposite side best-first while it crosses its limit and
trades at each level's price. A resting order is filled when a later book
crosses it, at its own (maker) price. Either way the depth it takes is noted
per venue second (`depth_used`), so two orders in the same second cannot both
take the same shares; the next second shows fresh depth.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

from exchange.paper.books import SyntheticBook, depth_field
from exchange.paper.models import PaperOrder
from exchange.paper.store import Tx, VenueStore
from exchange.types import Outcome, Side

DEPTH_TTL_S = 3600
ZERO_ADDRESS = "0x" + "0" * 40
SYNTHETIC_OWNER = "synthetic"
_TRADE_NS = uuid.UUID("8f7e4c1a-3b7d-4f3e-9a51-6a2b3c4d5e6f")


@dataclass(frozen=True)
class Take:
    price: Decimal  # the level's price
    size: Decimal
    depth_field: str


def crosses(side: Side, level: Decimal, limit: Decimal) -> bool:
    return level <= limit if side == "BUY" else level >= limit


def sweep(
    book: SyntheticBook,
    outcome: Outcome,
    side: Side,
    limit: Decimal,
    want: Decimal,
    used: Callable[[str], Decimal],
) -> list[Take]:
    """What an order on `side` with `limit` can take from the book, up to `want` shares."""
    takes: list[Take] = []
    for quote in book.opposite(side):
        if want <= 0 or not crosses(side, quote.price, limit):
            break
        field = depth_field(outcome, side, quote.price)
        free = quote.size - used(field)
        if free <= 0:
            continue
        size = min(free, want)
        takes.append(Take(quote.price, size, field))
        want -= size
    return takes


def _opposite(side: Side) -> Side:
    return "SELL" if side == "BUY" else "BUY"


def taker_fee(size: Decimal, price: Decimal, rate: Decimal, exponent: Decimal) -> Decimal:
    """shares * rate * (p * (1 - p)) ** exponent: the venue's taker fee (makers pay none)."""
    return size * rate * (price * (1 - price)) ** exponent


class Recorder:
    """Writes fills into a Tx: trades, order progress, positions, cash, fees and depth taken."""

    def __init__(
        self, store: VenueStore, fee_rate: Decimal = Decimal(0), fee_exponent: Decimal = Decimal(1)
    ) -> None:
        self.store = store
        self.keys = store.keys
        self.fee_rate = fee_rate
        self.fee_exponent = fee_exponent

    def used(self, tx: Tx, market: str, step: int) -> Callable[[str], Decimal]:
        key = self.keys.depth_used(market, step)
        return lambda field: Decimal(tx.hget(key, field) or "0")

    def fill(
        self, tx: Tx, order: PaperOrder, takes: list[Take], step: int, ts: int, maker: bool
    ) -> PaperOrder:
        """Apply takes to the order (as maker: at its own price) and return the updated order."""
        for take in takes:
            price = order.price if maker else take.price
            fee = Decimal(0) if maker else self._fee(take.size, price)
            trade_id = self._trade_id()
            tx.hset(
                self.keys.trades,
                {trade_id: self._trade_json(trade_id, order, price, take.size, ts, maker, fee)},
            )
            tx.call("ZADD", self.keys.owner_trades(order.owner), ts, trade_id)
            self._take_depth(tx, order.market, step, take)
            self._move_holdings(tx, order, price, take.size, fee)
            order = _progress(order, price, take.size, trade_id)
        tx.call("SADD", self.keys.owners, order.owner)
        return order

    def _fee(self, size: Decimal, price: Decimal) -> Decimal:
        fee = taker_fee(size, price, self.fee_rate, self.fee_exponent)
        return fee.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)

    def _trade_id(self) -> str:
        return str(uuid.uuid5(_TRADE_NS, f"{self.keys.venue}:{self.store.next_seq()}"))

    def _take_depth(self, tx: Tx, market: str, step: int, take: Take) -> None:
        key = self.keys.depth_used(market, step)
        taken = Decimal(tx.hget(key, take.depth_field) or "0") + take.size
        tx.hset(key, {take.depth_field: str(taken)})
        tx.call("EXPIRE", key, DEPTH_TTL_S)

    def _move_holdings(
        self, tx: Tx, order: PaperOrder, price: Decimal, size: Decimal, fee: Decimal
    ) -> None:
        sign = 1 if order.side == "BUY" else -1
        pos_key, acct_key = self.keys.positions(order.owner), self.keys.account(order.owner)
        shares = Decimal(tx.hget(pos_key, order.token_id) or "0") + sign * size
        cash = Decimal(tx.hget(acct_key, "cash") or "0") - sign * price * size
        fees = Decimal(tx.hget(acct_key, "fees") or "0") + fee
        tx.hset(pos_key, {order.token_id: str(shares)})
        tx.hset(acct_key, {"cash": str(cash), "fees": str(fees)})

    def _trade_json(
        self,
        trade_id: str,
        order: PaperOrder,
        price: Decimal,
        size: Decimal,
        ts: int,
        maker: bool,
        fee: Decimal,
    ) -> str:
        taker_bps = str(self.fee_rate * 10_000)
        other_id = "0x" + hashlib.sha256(f"synthetic:{trade_id}".encode()).hexdigest()
        ours = {
            "order_id": order.order_id,
            "owner": order.owner,
            "maker_address": order.maker,
            "matched_amount": str(size),
            "price": str(price),
            "fee_rate_bps": "0",
            "asset_id": order.token_id,
            "outcome": order.outcome,
            "side": order.side,
        }
        theirs = {
            **ours,
            "order_id": other_id,
            "owner": SYNTHETIC_OWNER,
            "maker_address": ZERO_ADDRESS,
            "side": _opposite(order.side),
        }
        trade = {
            "id": trade_id,
            "taker_order_id": other_id if maker else order.order_id,
            "market": order.market,
            "asset_id": order.token_id,
            "side": _opposite(order.side) if maker else order.side,
            "size": str(size),
            "fee_rate_bps": "0" if maker else taker_bps,
            "fee": str(fee),  # paper extension: what our side paid
            "price": str(price),
            "status": "CONFIRMED",
            "match_time": str(ts),
            "last_update": str(ts),
            "outcome": order.outcome,
            "bucket_index": 0,
            "owner": order.owner,
            "maker_address": order.maker,
            "transaction_hash": "0x" + hashlib.sha256(trade_id.encode()).hexdigest(),
            "trader_side": "MAKER" if maker else "TAKER",
            "maker_orders": [ours if maker else theirs],
        }
        return json.dumps(trade, separators=(",", ":"))


def _progress(order: PaperOrder, price: Decimal, size: Decimal, trade_id: str) -> PaperOrder:
    usdc = price * size
    making, taking = (usdc, size) if order.side == "BUY" else (size, usdc)
    matched = order.size_matched + size
    return replace(
        order,
        size_matched=matched,
        making=order.making + making,
        taking=order.taking + taking,
        status="MATCHED" if matched >= order.original_size else order.status,
        trades=(*order.trades, trade_id),
    )
