"""Fixed-window request limits per route (wall time), answered with 429 and Retry-After."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping

from exchange.paper.clock import RealTime
from exchange.paper.config import RateLimit


class RateLimiter:
    def __init__(self, limits: Mapping[str, RateLimit], real_time: RealTime) -> None:
        self.limits = dict(limits)
        self._real_time = real_time
        self._windows: dict[str, tuple[float, int]] = {}  # route -> (window start, count)
        self._lock = threading.Lock()

    def check(self, route: str) -> float | None:
        """None when the request may pass, else seconds until it may (for Retry-After)."""
        limit = self.limits.get(route)
        if limit is None:
            return None
        now = self._real_time()
        with self._lock:
            start, count = self._windows.get(route, (now, 0))
            if now - start >= limit.per_s:
                start, count = now, 0
            if count >= limit.requests:
                return max(0.0, start + limit.per_s - now)
            self._windows[route] = (start, count + 1)
            return None


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
