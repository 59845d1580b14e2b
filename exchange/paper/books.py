"""Synthetic order books whose mid tracks the fair probability of Up.

fair(Up) = Phi(ln(price / start_price) / (sigma * sqrt(seconds left)))

which is the probability that a driftless log-price ends at or above the
start price. The Up book quotes around it with a fixed half-spread and a few
levels of seeded, noisy depth, one tick apart; the Down book is its mirror
(a bid for Up at p is an ask for Down at 1 - p), so both books are one pool of
liquidity. A book is a function of (window, venue second): the same second
always shows the same book.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from exchange.paper.config import PaperConfig
from exchange.paper.models import PaperWindow
from exchange.paper.prices import PriceProcess
from exchange.types import Outcome, Side

ONE = Decimal(1)


@dataclass(frozen=True)
class Quote:
    price: Decimal
    size: Decimal


@dataclass(frozen=True)
class SyntheticBook:
    token_id: str
    market: str
    step: int
    bids: tuple[Quote, ...]  # best (highest) first
    asks: tuple[Quote, ...]  # best (lowest) first
    fair: float

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    def mid(self, tick: Decimal) -> Decimal:
        bid, ask = self.best_bid, self.best_ask
        if bid is None or ask is None:
            return Decimal(repr(self.fair)).quantize(tick)
        return ((bid + ask) / 2).quantize(tick)

    def opposite(self, taker_side: Side) -> tuple[Quote, ...]:
        """The levels a taker on `taker_side` trades against."""
        return self.asks if taker_side == "BUY" else self.bids


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def depth_field(outcome: Outcome, taker_side: Side, price: Decimal) -> str:
    """The pool a take draws from, named in Up terms: `ask:<p>` or `bid:<p>`.

    Buying Down at q takes the Up bid at 1 - q; selling Down at q takes the Up ask at 1 - q.
    """
    if outcome == "Up":
        return f"{'ask' if taker_side == 'BUY' else 'bid'}:{price}"
    return f"{'bid' if taker_side == 'BUY' else 'ask'}:{ONE - price}"


class BookMaker:
    def __init__(self, config: PaperConfig, prices: PriceProcess) -> None:
        self.config = config
        self.prices = prices
        self.tick = config.tick_size
        #: token -> the size its best bid shows instead (`mark`: a change a caller makes,
        #: e.g. the latency bench); `version` counts such changes
        self.marks: dict[str, Decimal] = {}
        self.version = 0

    def mark(self, token_id: str, size: Decimal) -> int:
        """Show `size` at the best bid of `token_id` from now on (every second's book); the
        books' new version. A plain dict update: safe from any thread."""
        self.marks = {**self.marks, token_id: size}
        self.version += 1
        return self.version

    def fair_up(self, window: PaperWindow, ts: float) -> float:
        """Probability that the window resolves Up, seen at venue time ts."""
        left = window.end_ts - math.floor(ts)
        price = self.prices.price(window.asset, ts)
        ratio = math.log(price / float(window.start_price))
        if left <= 0:
            return 1.0 if ratio >= 0 else 0.0
        return normal_cdf(ratio / (self.prices.sigma * math.sqrt(left)))

    def book(self, window: PaperWindow, outcome: Outcome, step: int) -> SyntheticBook:
        up = self._up_book(window, step)
        if outcome == "Up":
            return self._marked(up)
        return self._marked(
            SyntheticBook(
                token_id=window.down_token,
                market=window.condition_id,
                step=step,
                bids=tuple(Quote(ONE - q.price, q.size) for q in up.asks),
                asks=tuple(Quote(ONE - q.price, q.size) for q in up.bids),
                fair=1.0 - up.fair,
            )
        )

    def _marked(self, book: SyntheticBook) -> SyntheticBook:
        size = self.marks.get(book.token_id)
        if size is None or not book.bids:
            return book
        best = Quote(book.bids[0].price, size)
        return replace(book, bids=(best, *book.bids[1:]))

    def _up_book(self, window: PaperWindow, step: int) -> SyntheticBook:
        fair = self.fair_up(window, step)
        fair_d = Decimal(repr(fair))
        low, high = self.tick, ONE - self.tick
        best_ask = min(high, max(low * 2, _ceil(fair_d + self.config.half_spread, self.tick)))
        best_bid = max(
            low, min(best_ask - self.tick, _floor(fair_d - self.config.half_spread, self.tick))
        )
        bids, asks = [], []
        for i in range(self.config.depth_levels):
            bid, ask = best_bid - i * self.tick, best_ask + i * self.tick
            if bid >= low:
                bids.append(Quote(bid, self._size(window, step, "bid", i)))
            if ask <= high:
                asks.append(Quote(ask, self._size(window, step, "ask", i)))
        return SyntheticBook(
            token_id=window.up_token,
            market=window.condition_id,
            step=step,
            bids=tuple(bids),
            asks=tuple(asks),
            fair=fair,
        )

    def _size(self, window: PaperWindow, step: int, side: str, level: int) -> Decimal:
        key = f"{self.config.seed}:{window.condition_id}:{step}:{side}:{level}".encode()
        noise = int.from_bytes(hashlib.blake2b(key, digest_size=4).digest(), "big") / 2**32
        size = self.config.depth_size * Decimal(1 + level) * Decimal(repr(0.5 + noise))
        return size.quantize(Decimal("0.01"))


def _floor(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).to_integral_value(rounding=ROUND_FLOOR) * tick


def _ceil(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).to_integral_value(rounding=ROUND_CEILING) * tick
