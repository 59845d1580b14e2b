"""The paper venue's stream settings and the fault switch tests use to break its streams.

- `drop()`: every open stream connection is closed at once (clients must reconnect);
- `silent = True`: connections stay open but nothing is sent, not even PONG
  (`final_trades_withheld` counts trade events with a final status so lost);
- `skip(n)`: the next n `price_change` messages are not sent (a missed sequence);
- `fail_trades(n)`: the next n trades seen on the user channel go MATCHED ->
  RETRYING -> FAILED, and the venue reverses them;
- `unlist(slug)`: the Gamma routes answer 404 for that window.

One `StreamFaults` per app (`app.state.stream_faults`); routes and tests share it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StreamSettings:
    poll_s: float = 0.02  # how often a connection looks for news (real seconds)
    mined_after_s: float = 0.2  # a trade's MATCHED -> MINED delay (real seconds)
    confirmed_after_s: float = 0.5  # MATCHED -> CONFIRMED (or -> FAILED for a failing trade)
    gamma_lookahead_s: int = 86_400  # Gamma lists a window this long before it starts


@dataclass
class StreamFaults:
    settings: StreamSettings = field(default_factory=StreamSettings)
    silent: bool = False
    generation: int = 0  # bumped by drop(); a connection of an older generation closes
    skip_pending: int = 0
    fail_pending: int = 0
    unlisted: set[str] = field(default_factory=set)
    dropped: int = 0  # connections closed by drop()
    skipped: int = 0  # price_change messages not sent
    final_trades_withheld: int = 0  # CONFIRMED/FAILED trade events not sent: silent
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def drop(self) -> None:
        with self._lock:
            self.generation += 1

    def skip(self, n: int = 1) -> None:
        with self._lock:
            self.skip_pending += n

    def fail_trades(self, n: int = 1) -> None:
        with self._lock:
            self.fail_pending += n

    def unlist(self, slug: str) -> None:
        with self._lock:
            self.unlisted.add(slug)

    def take_skip(self) -> bool:
        with self._lock:
            if self.skip_pending <= 0:
                return False
            self.skip_pending -= 1
            self.skipped += 1
            return True

    def take_fail(self) -> bool:
        with self._lock:
            if self.fail_pending <= 0:
                return False
            self.fail_pending -= 1
            return True

    def note_withheld(self, payload: object) -> None:
        """A message not sent because the venue is silent."""
        final = (
            isinstance(payload, dict)
            and payload.get("event_type") == "trade"
            and payload.get("status") in ("CONFIRMED", "FAILED")
        )
        if final:
            with self._lock:
                self.final_trades_withheld += 1

    def note_dropped(self) -> None:
        with self._lock:
            self.dropped += 1

    def reset(self) -> None:
        with self._lock:
            self.silent = False
            self.skip_pending = self.fail_pending = 0
            self.unlisted.clear()
