"""Everything a paper venue is configured with."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

import redis

from exchange.auth import ApiCredentials
from exchange.paper.clock import RealTime
from exchange.paper.prices import INITIAL_PRICES
from exchange.slugs import INTERVALS


@dataclass(frozen=True)
class RateLimit:
    requests: int
    per_s: float


#: As documented for the real CLOB: GET /book 1500 and POST /order 3500 per 10 s.
DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = MappingProxyType(
    {
        "GET /book": RateLimit(1500, 10.0),
        "POST /books": RateLimit(500, 10.0),
        "POST /order": RateLimit(3500, 10.0),
    }
)


@dataclass(frozen=True)
class PaperConfig:
    """A paper CLOB venue. Only `redis` is required; the rest has demo-friendly defaults.

    `window_seconds` overrides the length of the 5m windows (15m windows last
    three times as long); slugs keep their `5m`/`15m` label and windows start
    at multiples of the (overridden) length. `start_ts` is the venue time at
    the very first start (default: wall time), `real_time` the wall-time source.
    """

    redis: redis.Redis
    name: str = "paper"
    seed: int = 0
    speed: float = 1.0
    window_seconds: int | None = None
    vol: float = 0.6  # annualised volatility of the reference price
    assets: tuple[str, ...] = ("btc", "eth")
    start_ts: float | None = None
    real_time: RealTime = time.time
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal("5")
    half_spread: Decimal = Decimal("0.01")
    depth_levels: int = 5
    depth_size: Decimal = Decimal("100")  # shares at the best level, before noise
    recent_windows: int = 3  # closed windows per series still listed by GET /markets
    page_size: int = 100
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: DEFAULT_RATE_LIMITS)
    credentials: tuple[ApiCredentials, ...] = ()  # when set, L2 auth is required and checked
    #: taker fee of every market: shares * fee_rate * (p * (1 - p)) ** fee_exponent; makers pay none
    fee_rate: Decimal = Decimal("0.07")
    fee_exponent: Decimal = Decimal(1)
    initial_balance: Decimal = Decimal(1_000_000)  # paper pUSD of every owner at its first order
    heartbeat_timeout_s: float = 10.0  # wall seconds without a beat before cancel-all

    def __post_init__(self) -> None:
        if not self.name or any(c in self.name for c in "{}: \t\n") or len(self.name) > 64:
            raise ValueError(f"invalid venue name {self.name!r}")
        if not (self.speed > 0 and math.isfinite(self.speed)):
            raise ValueError("speed must be a positive number")
        if self.window_seconds is not None and self.window_seconds < 2:
            raise ValueError("window_seconds must be at least 2")
        if not (self.vol > 0 and math.isfinite(self.vol)):
            raise ValueError("vol must be a positive number")
        unknown = [a for a in self.assets if a not in INITIAL_PRICES]
        if unknown or not self.assets:
            raise ValueError(f"assets must be among {tuple(INITIAL_PRICES)}, got {self.assets}")
        if self.tick_size not in (
            Decimal("0.1"),
            Decimal("0.01"),
            Decimal("0.001"),
            Decimal("0.0001"),
        ):
            raise ValueError("tick_size must be 0.1, 0.01, 0.001 or 0.0001")
        if not (0 <= self.fee_rate <= 1 and self.fee_exponent >= 0 and self.initial_balance >= 0):
            raise ValueError("fee_rate must be in [0, 1], fee_exponent and initial_balance >= 0")
        if self.depth_levels < 1 or self.page_size < 1 or self.recent_windows < 0:
            raise ValueError("depth_levels and page_size must be >= 1, recent_windows >= 0")
        if not self.redis.get_connection_kwargs().get("decode_responses"):
            raise ValueError("the paper venue needs a Redis client with decode_responses=True")

    def lengths(self) -> dict[str, int]:
        """Window length in venue seconds per interval label."""
        if self.window_seconds is None:
            return dict(INTERVALS)
        return {label: self.window_seconds * nominal // 300 for label, nominal in INTERVALS.items()}
