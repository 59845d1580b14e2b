"""The reference price of each asset: a seeded, driftless geometric Brownian motion.

The price at venue time t is a pure function of (seed, asset, t, origin), so a
restarted venue reproduces it exactly and any instant can be evaluated
without replaying history. The Brownian path W is built with Lévy's midpoint
construction over 2**32 one-second steps: W(n) is reached by descending
through at most 32 dyadic midpoints, each drawing its normal from a hash of
(seed, asset, midpoint). Price is constant within one venue second.

    price(t) = origin_price * exp(sigma * (W(step(t)) - W(step(origin_ts))))

with sigma the volatility per sqrt(second).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from statistics import NormalDist

HORIZON_BITS = 32
HORIZON = 1 << HORIZON_BITS  # steps (seconds) covered: until the year 2106
SECONDS_PER_YEAR = 365.25 * 24 * 3600
_STANDARD = NormalDist()

#: Where each asset's path starts (its price at the venue's origin time).
INITIAL_PRICES: Mapping[str, float] = {"btc": 95_000.0, "eth": 3_500.0, "sol": 180.0, "xrp": 2.2}


def sigma_per_second(annual_vol: float) -> float:
    return annual_vol / math.sqrt(SECONDS_PER_YEAR)


def _normal(seed: int, asset: str, node: int) -> float:
    digest = hashlib.blake2b(f"{seed}:{asset}:{node}".encode(), digest_size=8).digest()
    uniform = (int.from_bytes(digest, "big") + 0.5) / 2.0**64
    return _STANDARD.inv_cdf(uniform)


@lru_cache(maxsize=1 << 16)
def brownian(seed: int, asset: str, step: int) -> float:
    """W(step) of the seeded standard Brownian path of `asset` (W(0) = 0)."""
    if not 0 <= step <= HORIZON:
        raise ValueError(f"step {step} outside [0, 2**{HORIZON_BITS}]")
    lo, hi = 0, HORIZON
    w_lo, w_hi = 0.0, math.sqrt(HORIZON) * _normal(seed, asset, HORIZON)
    while True:
        if step == lo:
            return w_lo
        if step == hi:
            return w_hi
        mid = (lo + hi) // 2
        w_mid = (w_lo + w_hi) / 2 + math.sqrt((hi - lo) / 4) * _normal(seed, asset, mid)
        if step < mid:
            hi, w_hi = mid, w_mid
        else:
            lo, w_lo = mid, w_mid


class PriceProcess:
    def __init__(
        self,
        seed: int,
        annual_vol: float,
        origin_ts: float,
        origin_prices: Mapping[str, float] = INITIAL_PRICES,
    ) -> None:
        self.seed = seed
        self.sigma = sigma_per_second(annual_vol)
        self.origin_step = math.floor(origin_ts)
        self.origin_prices = dict(origin_prices)

    def price(self, asset: str, ts: float) -> float:
        step = math.floor(ts)
        drift = brownian(self.seed, asset, step) - brownian(self.seed, asset, self.origin_step)
        return self.origin_prices[asset] * math.exp(self.sigma * drift)

    def quote(self, asset: str, ts: float) -> str:
        """The price as the venue reports it (a decimal string: 2 places, 4 under 10)."""
        return format_price(self.price(asset, ts))


def format_price(value: float) -> str:
    places = Decimal("0.01") if value >= 10 else Decimal("0.0001")
    return str(Decimal(repr(value)).quantize(places))
