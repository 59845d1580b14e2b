"""Finding the Up/Down windows on Gamma by slug, before they open.

For each configured series (asset x interval) the slug of a window is known
in advance (`{asset}-updown-{5m|15m}-{window start}`), so discovery is one
`GET /markets/slug/{slug}` per window, never a market listing. The answer is
parsed with polymarket-client's Gamma `Market` model (`outcomes` and
`clobTokenIds` are JSON-encoded strings whose orders match; tokens are
matched to Up/Down by their outcome label). The window runs from the slug's
timestamp to `endDate` (`startDate` is when the market was created).

A window Gamma does not list (404) is remembered with the time to ask again
(`retry_after_s`), reported by `missing()`, and not asked again every tick.
(The runner's discovery, `runner.discovery`, keeps what it knows in Redis and
uses `exchange.gamma.GammaClient`, with this module's `parse_market` once the
SDK is loaded.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import httpx
from polymarket.models.gamma.market import Market
from pydantic import ValidationError

from exchange.gamma import DiscoveredWindow as DiscoveredWindow
from exchange.slugs import INTERVALS, parse_slug, window_slug, window_start

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Miss:
    slug: str
    reason: str
    retry_at: float


class Discovery:
    def __init__(
        self,
        gamma_url: str,
        series: Iterable[tuple[str, str]],
        lengths: dict[str, int] | None = None,
        http: httpx.Client | None = None,
        retry_after_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.gamma_url = gamma_url.rstrip("/")
        self.series = list(series)
        self.lengths = dict(lengths or INTERVALS)
        self.http = http or httpx.Client(timeout=5.0)
        self.retry_after_s = retry_after_s
        self.clock = clock
        self._found: dict[str, DiscoveredWindow] = {}
        self._missing: dict[str, Miss] = {}
        self.requests = 0

    def upcoming(self, now: float, ahead: int = 1) -> list[DiscoveredWindow]:
        """The current window of each series and the `ahead` next ones that Gamma lists."""
        found = []
        for asset, interval in self.series:
            length = self.lengths[interval]
            current = window_start(now, length)
            for k in range(ahead + 1):
                window = self.window(window_slug(asset, interval, current + k * length))
                if window is not None:
                    found.append(window)
        return found

    def window(self, slug: str) -> DiscoveredWindow | None:
        """The window of `slug`: cached once found; a miss is asked again only after a while."""
        if slug in self._found:
            return self._found[slug]
        miss = self._missing.get(slug)
        if miss is not None and self.clock() < miss.retry_at:
            return None
        window, reason = self.fetch(slug)
        if window is None:
            self._missing[slug] = Miss(slug, reason, self.clock() + self.retry_after_s)
            logger.info("window %s not listed: %s", slug, reason)
            return None
        self._missing.pop(slug, None)
        self._found[slug] = window
        return window

    def close(self) -> None:
        self.http.close()

    def missing(self) -> list[Miss]:
        return sorted(self._missing.values(), key=lambda m: m.slug)

    def forget_before(self, ts: float) -> None:
        """Drop cached windows that ended before `ts`."""
        self._found = {s: w for s, w in self._found.items() if w.end_ts >= ts}
        self._missing = {
            s: m for s, m in self._missing.items() if (p := parse_slug(s)) and p.start_ts >= ts
        }

    def fetch(self, slug: str) -> tuple[DiscoveredWindow | None, str]:
        """One `GET /markets/slug/{slug}`, uncached: the window, or None and why not."""
        self.requests += 1
        try:
            response = self.http.get(f"{self.gamma_url}/markets/slug/{slug}")
        except httpx.HTTPError as exc:
            return None, f"request failed: {type(exc).__name__}"
        if response.status_code != 200:
            return None, f"HTTP {response.status_code}"
        try:
            return parse_market(slug, response.json()), ""
        except (ValidationError, ValueError, KeyError) as exc:
            return None, f"unreadable market: {exc}"


def parse_market(slug: str, data: dict[str, object]) -> DiscoveredWindow:
    parts = parse_slug(slug)
    if parts is None:
        raise ValueError(f"{slug!r} is not an Up/Down slug")
    market = Market.model_validate(data)
    tokens = {
        o.label.lower(): o.token_id
        for o in (market.outcomes.yes, market.outcomes.no)
        if o.token_id is not None
    }
    if set(tokens) != {"up", "down"}:
        raise ValueError(f"outcomes are {sorted(tokens)}, expected up and down")
    if market.state.end_date is None or market.condition_id is None:
        raise ValueError("no endDate or conditionId")
    trading = market.trading
    schedule = trading.fee_schedule
    return DiscoveredWindow(
        slug=slug,
        asset=parts.asset,
        interval=parts.interval,
        start_ts=parts.start_ts,
        end_ts=int(market.state.end_date.timestamp()),
        condition_id=str(market.condition_id),
        up_token=str(tokens["up"]),
        down_token=str(tokens["down"]),
        tick_size=trading.minimum_tick_size or Decimal("0.01"),
        min_order_size=trading.minimum_order_size or Decimal("0"),
        neg_risk=bool(market.state.neg_risk),
        fees_enabled=bool(trading.fees_enabled),
        fee_rate=schedule.rate if schedule and trading.fees_enabled else Decimal(0),
        fee_exponent=float(schedule.exponent) if schedule else 1.0,
        taker_only_fees=bool(schedule.taker_only) if schedule else True,
        version=str(market.version) if market.version else None,
        accepting_orders=bool(market.state.accepting_orders),
        closed=bool(market.state.closed),
    )
