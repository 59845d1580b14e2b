"""Calling strategies safely: a time budget, contained exceptions, checked output.

A strategy's fault becomes a recorded failure for that strategy in this tick,
never a dead loop. A `decide` that overruns its budget is abandoned (its
thread finishes on its own; its late result is dropped).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal

from state_store.codec import to_micro
from state_store.models import OUTCOMES, Intent
from state_store.view import MarketView, Remember, View

ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StrategyOutcome:
    """What one strategy produced in one tick: intents, memory updates, or why not."""

    name: str
    intents: tuple[Intent, ...] = ()
    remember: Mapping[str, str] = field(default_factory=dict)
    error: str = ""
    overrun: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.error)


def check_decisions(view: View, decisions: object) -> tuple[list[Intent], dict[str, str]]:
    """Intents and memory values from decide's result; ValueError on a broken invariant."""
    if not isinstance(decisions, Sequence | tuple) or isinstance(decisions, str | bytes):
        raise ValueError(f"decide returned {type(decisions).__name__}, not a list")
    markets = {m.market: m for m in view.markets}
    intents: list[Intent] = []
    remember: dict[str, str] = {}
    for item in decisions:
        if isinstance(item, Remember):
            remember.update({str(k): str(v) for k, v in item.values.items()})
        elif isinstance(item, Intent):
            check_intent(item, markets)
            intents.append(item)
        else:
            raise ValueError(f"decide returned a {type(item).__name__}, not an Intent or Remember")
    return intents, remember


def check_intent(intent: Intent, markets: Mapping[str, MarketView]) -> None:
    market = markets.get(intent.market)
    if market is None:
        raise ValueError(f"intent {intent.key!r} names market {intent.market!r} not in the view")
    if intent.outcome not in OUTCOMES or intent.side not in ("BUY", "SELL"):
        raise ValueError(f"intent {intent.key!r}: bad outcome/side {intent.outcome}/{intent.side}")
    if intent.order_type not in ORDER_TYPES or not isinstance(intent.key, str) or not intent.key:
        raise ValueError(f"intent {intent.key!r}: bad key or order type {intent.order_type!r}")
    price, size = intent.price, intent.size
    for name, value in (("price", price), ("size", size)):
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"intent {intent.key!r}: {name} {value!r} is not a finite Decimal")
        to_micro(value)  # AmountError (a ValueError) past 6 decimals
    if not (Decimal(0) < price < Decimal(1)):
        raise ValueError(f"intent {intent.key!r}: price {price} outside (0, 1)")
    if price % market.tick_size != 0:
        raise ValueError(f"intent {intent.key!r}: price {price} off tick {market.tick_size}")
    if size < market.min_order_size:
        raise ValueError(f"intent {intent.key!r}: size {size} below {market.min_order_size}")


class StrategyCaller:
    """Runs every strategy's decide concurrently, each within the tick's budget.

    A decide still running from an earlier tick (it overran and was abandoned) is
    not called again until it returns: one stuck strategy holds one thread, and
    the others keep theirs.
    """

    def __init__(self, budget_s: float, workers: int = 8) -> None:
        self.budget_s = budget_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decide")
        self._running: dict[str, Future[object]] = {}

    def call_all(self, calls: Mapping[str, tuple[object, View]]) -> list[StrategyOutcome]:
        """`calls` maps strategy name -> (decide function, view)."""
        busy = [n for n in calls if n in self._running and not self._running[n].done()]
        futures: dict[str, Future[object]] = {
            name: self._pool.submit(decide, view)  # type: ignore[arg-type]
            for name, (decide, view) in calls.items()
            if name not in busy
        }
        self._running.update(futures)
        wait(futures.values(), timeout=self.budget_s)
        outcomes = [self._outcome(name, fut, calls[name][1]) for name, fut in futures.items()]
        still = "still running its decide from an earlier tick"
        return outcomes + [StrategyOutcome(n, error=still, overrun=True) for n in busy]

    def _outcome(self, name: str, future: Future[object], view: View) -> StrategyOutcome:
        if not future.done():
            future.cancel()
            log.warning("strategy %s overran its %.3fs budget", name, self.budget_s)
            return StrategyOutcome(name, error=f"overran {self.budget_s:.3f}s budget", overrun=True)
        exc = future.exception()
        if exc is not None:
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            log.warning("strategy %s raised: %s", name, text)
            return StrategyOutcome(name, error=f"raised {text}")
        try:
            intents, remember = check_decisions(view, future.result())
        except (ValueError, TypeError, ArithmeticError) as bad:
            return StrategyOutcome(name, error=f"broke an invariant: {bad}")
        return StrategyOutcome(name, tuple(intents), remember)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
