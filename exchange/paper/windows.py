"""The recurring windows: which exist, their ids, and creating them as the clock reaches them.

For each asset and interval label there is one series of back-to-back
windows of `length` venue seconds, starting at multiples of the length. The
venue keeps the current window and the `recent_windows` before it
materialized in Redis (start price fixed when first written); GET /markets
lists exactly those. Ids are derived from the venue name and the slug, so
they are stable across restarts.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace

from exchange.paper.config import PaperConfig
from exchange.paper.models import PaperWindow
from exchange.paper.prices import PriceProcess
from exchange.paper.store import VenueStore
from exchange.slugs import parse_slug, window_slug, window_start

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Series:
    asset: str
    interval: str
    length: int


class WindowSchedule:
    def __init__(self, config: PaperConfig, store: VenueStore, prices: PriceProcess) -> None:
        self.config = config
        self.store = store
        self.prices = prices
        lengths = config.lengths()
        self.series = [
            Series(asset, interval, lengths[interval])
            for asset in config.assets
            for interval in lengths
        ]
        self._known: set[str] = set()

    def listed_slugs(self, now: float) -> list[str]:
        """The current window of each series and the recent ones before it, newest first."""
        slugs = []
        for series in self.series:
            current = window_start(now, series.length)
            for k in range(self.config.recent_windows + 1):
                start = current - k * series.length
                if start >= 0:
                    slugs.append(window_slug(series.asset, series.interval, start))
        return slugs

    def materialize(self, now: float) -> None:
        """Write every listed window that is not in Redis yet (one MULTI)."""
        missing = [slug for slug in self.listed_slugs(now) if slug not in self._known]
        if not missing:
            return
        existing = {w.slug for w in self.store.windows(missing)}
        tx = self.store.tx()
        keys = self.store.keys
        for slug in missing:
            if slug not in existing:
                window = self._new_window(slug)
                tx.hset(keys.window(slug), window.to_hash())
                tx.hset(keys.conditions, {window.condition_id: slug})
                tx.hset(
                    keys.tokens, {window.up_token: f"{slug}|Up", window.down_token: f"{slug}|Down"}
                )
                tx.call("SADD", keys.unresolved, slug)
                logger.info("window %s opens at %s", slug, window.start_price)
        tx.commit()
        self._known.update(missing)

    def describe(self, slug: str, now: float) -> PaperWindow | None:
        """The window of `slug` as stored, or as it will be (no start price before it starts).

        None for a slug of no configured series or not on the series' grid.
        """
        parts = parse_slug(slug)
        series = next(
            (
                s
                for s in self.series
                if parts is not None and (s.asset, s.interval) == (parts.asset, parts.interval)
            ),
            None,
        )
        if parts is None or series is None or parts.start_ts % series.length:
            return None
        stored = self.store.window(slug)
        if stored is not None:
            return stored
        window = self._new_window(slug)
        return window if window.start_ts <= now else replace(window, start_price="")

    def _new_window(self, slug: str) -> PaperWindow:
        asset, _, interval, start_text = slug.split("-")
        series = next(s for s in self.series if s.asset == asset and s.interval == interval)
        start = int(start_text)
        return PaperWindow(
            slug=slug,
            condition_id="0x" + self._digest(slug, "condition"),
            asset=asset,
            interval=interval,
            length=series.length,
            start_ts=start,
            end_ts=start + series.length,
            up_token=str(int(self._digest(slug, "Up"), 16)),
            down_token=str(int(self._digest(slug, "Down"), 16)),
            start_price=self.prices.quote(asset, start),
        )

    def _digest(self, slug: str, what: str) -> str:
        return hashlib.sha256(f"{self.config.name}:{slug}:{what}".encode()).hexdigest()
