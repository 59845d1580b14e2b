"""Placing, resting and cancelling orders on the paper venue.

- Dedup: the order id is the hash of the signed order, so a re-post finds the
  order already stored and gets its current state back (success true).
- A new order first takes what it can from the synthetic book at its limit.
  FOK: all or nothing (400 if not all). FAK: what it can, the rest is killed
  (400 if nothing). GTC/GTD: the rest rests.
- Resting orders are matched every venue second against that second's book;
  GTD orders are cancelled at their expiration, all at the window's end.
- A SELL needs the shares (held minus those already offered by open SELLs); a
  BUY needs the pUSD (balance minus what open BUYs hold back).
- A post-only order that would take is refused; makers pay no fee, takers do.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal

from exchange.paper.bodies import PostOrderRequest
from exchange.paper.books import BookMaker
from exchange.paper.config import PaperConfig
from exchange.paper.errors import bad_request
from exchange.paper.matching import Recorder, sweep
from exchange.paper.models import PaperOrder, PaperWindow
from exchange.paper.settlement import cancel_order
from exchange.paper.store import Tx, VenueStore
from exchange.paper.validation import ValidOrder, signed_order, validate_order
from exchange.types import Outcome

POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
NOT_ENOUGH = "not enough balance / allowance"
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_KILLED = (
    "no orders found to match with FAK order. "
    "FAK orders are partially filled or killed if no match is found."
)


class OrderDesk:
    def __init__(self, config: PaperConfig, store: VenueStore, books: BookMaker) -> None:
        self.config = config
        self.store = store
        self.keys = store.keys
        self.books = books
        self.recorder = Recorder(store, config.fee_rate, config.fee_exponent)

    # -- placing -------------------------------------------------------------
    def place(
        self,
        body: PostOrderRequest,
        owner: str,
        owner_address: str | None,
        now: float,
        refuse_balance: bool = False,
    ) -> PaperOrder:
        """Store and match a new order, or return the stored one for a re-post."""
        signed = signed_order(body, owner, owner_address, neg_risk=False)
        existing = self.store.order(signed.order_id)
        if existing is not None:  # checked first: a re-post after expiry still finds it
            return existing
        valid = validate_order(body, signed, self.config.tick_size, self.config.min_order_size, now)
        window, outcome = self._market_of(valid.token_id, now)
        if refuse_balance:
            raise bad_request(NOT_ENOUGH)
        if valid.side == "SELL":
            self._check_shares(valid)
        else:
            self._check_balance(valid)
        step = math.floor(now)
        tx = self.store.tx()
        book = self.books.book(window, outcome, step)
        used = self.recorder.used(tx, window.condition_id, step)
        takes = sweep(book, outcome, valid.side, valid.price, valid.size, used)
        if valid.post_only and takes:
            raise bad_request(POST_ONLY_CROSSES)
        taken = sum((t.size for t in takes), Decimal(0))
        if valid.order_type == "FOK" and taken < valid.size:
            raise bad_request(FOK_KILLED)
        if valid.order_type == "FAK" and taken == 0:
            raise bad_request(FAK_KILLED)
        order = self._new_order(valid, window, outcome, step, int(now))
        order = self.recorder.fill(tx, order, takes, step, int(now), maker=False)
        if order.status == "LIVE" and valid.order_type in ("FOK", "FAK"):
            order = replace(order, status="CANCELED")
        self._save(tx, order)
        # the salt, derived from the client order id: tests check no client order id was
        # placed twice (the order hash's other readers ignore the field)
        tx.call("HSET", self.keys.order(order.order_id), "salt", str(body.order.salt))
        tx.call("ZADD", self.keys.owner_orders(owner), order.seq, order.order_id)
        tx.commit()
        return order

    def _market_of(self, token_id: str, now: float) -> tuple[PaperWindow, Outcome]:
        ref = self.store.token_ref(token_id)
        window = self.store.window(ref[0]) if ref else None
        if ref is None or window is None:
            raise bad_request(f"invalid token id {token_id!r}: no such market")
        if not window.is_open(now):
            raise bad_request(f"market {window.slug} is closed")
        return window, ref[1]

    def _check_shares(self, valid: ValidOrder) -> None:
        held = Decimal(self.store.positions(valid.owner).get(valid.token_id, "0"))
        offered = sum(
            (
                o.remaining
                for o in self.store.open_orders()
                if o.owner == valid.owner and o.token_id == valid.token_id and o.side == "SELL"
            ),
            Decimal(0),
        )
        if held - offered < valid.size:
            raise bad_request(
                f"not enough balance / allowance: {held - offered} shares free, "
                f"{valid.size} to sell"
            )

    def balance(self, owner: str) -> Decimal:
        """Paper pUSD: the initial balance, plus cash (trades and payouts), minus fees."""
        account = self.store.account(owner)
        cash = Decimal(account.get("cash", "0"))
        return self.config.initial_balance + cash - Decimal(account.get("fees", "0"))

    def _check_balance(self, valid: ValidOrder) -> None:
        held = sum(
            (
                o.remaining * o.price
                for o in self.store.open_orders()
                if o.owner == valid.owner and o.side == "BUY"
            ),
            Decimal(0),
        )
        free = self.balance(valid.owner) - held
        if free < valid.size * valid.price:
            raise bad_request(f"{NOT_ENOUGH}: {free} pUSD free, {valid.size * valid.price} needed")

    def _new_order(
        self, valid: ValidOrder, window: PaperWindow, outcome: Outcome, step: int, ts: int
    ) -> PaperOrder:
        return PaperOrder(
            order_id=valid.order_id,
            owner=valid.owner,
            maker=valid.maker,
            token_id=valid.token_id,
            market=window.condition_id,
            slug=window.slug,
            outcome=outcome,
            side=valid.side,
            price=valid.price,
            original_size=valid.size,
            order_type=valid.order_type,
            expiration=valid.expiration,
            created_at=ts,
            seq=self.store.next_seq(),
            checked_step=step,
        )

    def _save(self, tx: Tx, order: PaperOrder) -> None:
        tx.hset(self.keys.order(order.order_id), order.to_hash())
        if order.status == "LIVE":
            tx.call("ZADD", self.keys.open_orders, order.seq, order.order_id)
        else:
            tx.call("ZREM", self.keys.open_orders, order.order_id)

    # -- resting -------------------------------------------------------------
    def match_resting(self, now: float) -> None:
        """Fill resting orders against every venue second's book since they were last checked."""
        windows: dict[str, PaperWindow | None] = {}
        for order in self.store.open_orders():
            if order.slug not in windows:
                windows[order.slug] = self.store.window(order.slug)
            window = windows[order.slug]
            if window is not None:
                self._rest(order, window, now)

    def _rest(self, order: PaperOrder, window: PaperWindow, now: float) -> None:
        last = min(math.floor(now), window.end_ts - 1)
        if order.expiration:
            last = min(last, order.expiration - 1)
        expired = bool(order.expiration) and now >= order.expiration
        if last <= order.checked_step and not expired:
            return
        tx = self.store.tx()
        for step in range(order.checked_step + 1, last + 1):
            if order.status != "LIVE":
                break
            book = self.books.book(window, order.outcome, step)
            used = self.recorder.used(tx, order.market, step)
            takes = sweep(book, order.outcome, order.side, order.price, order.remaining, used)
            if takes:
                order = self.recorder.fill(tx, order, takes, step, step, maker=True)
        order = replace(order, checked_step=max(order.checked_step, last))
        if order.status == "LIVE" and expired:
            order = replace(order, status="CANCELED")
        self._save(tx, order)
        tx.commit()

    # -- cancelling ----------------------------------------------------------
    def cancel(self, order_ids: list[str], owner: str) -> dict[str, object]:
        tx = self.store.tx()
        canceled, not_canceled = [], {}
        for order_id in order_ids:
            order = self.store.order(order_id)
            if order is None or order.owner != owner:
                not_canceled[order_id] = "order not found"
            elif order.status != "LIVE":
                not_canceled[order_id] = f"order is already {order.status.lower()}"
            else:
                cancel_order(tx, self.keys, order)
                canceled.append(order_id)
        tx.commit()
        return {"canceled": canceled, "not_canceled": not_canceled}

    def cancel_all(self, owner: str) -> dict[str, object]:
        ids = [o.order_id for o in self.store.open_orders() if o.owner == owner]
        return self.cancel(ids, owner)
