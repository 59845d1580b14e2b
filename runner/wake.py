"""Event-driven ticks: the streams wake the loop when a book or price of our markets changes.

The feeds call `on_book(token)` and `on_price(point)` on the stream thread;
a change to a token of one of this runner's live leased markets, or to the
reference price of one of their assets, sets a flag. The loop
(`runner.loop.Loop`) waits on that flag with the timer as timeout, so a tick
starts at the next change or at the timer, whichever comes first:

- wakes are coalesced: any number of changes before the next tick starts make
  one tick (the flag is cleared when a tick starts, `tick_started`);
- a tick never starts less than `gap_s` after the previous one started (the
  minimum gap bounds the tick rate, and with it the venue calls, under a
  storm of changes);
- the timer counts from the last tick's start, event or timer, so a silent
  stream still ticks every period and the missed-tick count
  (`runner.tick_timing.TickGaps`) stays right;
- `enabled=False` (`--timer-ticks`): changes are ignored, only the timer ticks.

Code swaps still happen at tick boundaries only: a wake starts a tick, and
every tick rewires first (`runner.tick.rewire`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from runner.runtime import Runtime
    from state_store.models import Window

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class HasAsset(Protocol):
    @property
    def asset(self) -> str: ...


@dataclass
class WakeStats:
    wakes: int = 0  # changes of watched tokens or assets seen
    ignored: int = 0  # changes of anything else (or while events are off)
    event_ticks: int = 0  # ticks an event started
    timer_ticks: int = 0  # ticks the timer started


class Waker:
    def __init__(
        self,
        gap_s: float,
        enabled: bool = True,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if gap_s < 0:
            raise ValueError("the minimum gap cannot be negative")
        self.gap_s = gap_s
        self.enabled = enabled
        self.stats = WakeStats()
        self._clock = clock
        self._sleep = sleep
        self._flag = threading.Event()
        self._tokens: frozenset[str] = frozenset()
        self._assets: frozenset[str] = frozenset()
        self._last_start: float | None = None
        self.by_event = False  # the current tick was started by a change (not the timer)

    # -- runner thread ---------------------------------------------------------
    def watch(self, tokens: Iterable[str], assets: Iterable[str]) -> bool:
        """The tokens and assets whose changes wake the loop; True when they changed."""
        tokens, assets = frozenset(tokens), frozenset(assets)
        changed = tokens != self._tokens or assets != self._assets
        self._tokens, self._assets = tokens, assets  # replaced whole: read without a lock
        return changed

    def tick_started(self, by_event: bool) -> None:
        """A tick starts now: changes seen so far are in it."""
        self._flag.clear()
        self._last_start = self._clock()
        self.by_event = by_event
        if by_event:
            self.stats.event_ticks += 1
        else:
            self.stats.timer_ticks += 1

    def wait(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for a change; True when a tick should start now (the
        minimum gap since the last tick's start waited out, within the timeout)."""
        began = self._clock()
        if not self._flag.wait(max(0.0, timeout_s)):
            return False
        now = self._clock()
        earliest = now if self._last_start is None else self._last_start + self.gap_s
        if earliest > began + timeout_s:  # the gap outlasts this wait: the caller waits again
            self._sleep(max(0.0, began + timeout_s - now))
            return False
        if earliest > now:
            self._sleep(earliest - now)
        return True

    # -- stream thread -----------------------------------------------------------
    def on_book(self, token: str) -> None:
        self._note(self.enabled and token in self._tokens)

    def on_price(self, point: HasAsset) -> None:
        self._note(self.enabled and point.asset in self._assets)

    def _note(self, ours: bool) -> None:
        if ours:
            self.stats.wakes += 1
            self._flag.set()
        else:
            self.stats.ignored += 1


def watch_markets(rt: Runtime, windows: Iterable[Window]) -> None:
    """Watch the tokens and assets of this tick's live leased markets (the market channel
    streams the same tokens: `runner.books.take_books` subscribes them)."""
    live = list(windows)
    rt.waker.watch({tok for w in live for tok in (w.up_token, w.down_token)},
                   {w.asset for w in live})  # fmt: skip
