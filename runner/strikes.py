"""Reference prices and strikes: the price stream kept in Redis, each window's start price once.

With a price stream (`exchange.streams.PriceStream`, RTDS `crypto_prices_chainlink`):

- every tick, the points it received since the last tick are appended to the
  asset's capped Redis stream `nb:{B}:prices:<asset>` (`append_prices.lua`:
  entry id = the price's timestamp, so replicas appending the same point add
  it once; a Redis stream only grows, so a point older than its newest entry
  is left out); any replica, or a runner restarted after the start, reads
  recent history from there, merged with its own;
- each live window's strike is chosen from that history by `choose_strike`
  and recorded once (`record_strike.lua`: the first writer wins, never
  overwritten); a window whose strike cannot be captured gets the reason in
  `strike_missing`;
- strategies see the stream's last price as `MarketView.reference_price`.

The rule (docs/live-data.md): the point stamped exactly at the window's start,
else the last point stamped before it within `STRIKE_TOLERANCE_S` (the price
in force when the window opened). Polymarket's market rules say "the price at
the beginning of the range" of the Chainlink data stream, without saying
which report; a point stamped after the start is never taken (it already moved
with the window). The choice waits until a point at or after the start arrived
(nothing stamped at the start can still come), or until `STRIKE_TOLERANCE_S`
after the start (the stream went quiet: the last point before it stands).

Without a price stream nothing here runs: the venue's own start price (the
paper venue's) is recorded with the window, and reference prices come from the
venue (`runner.markets.reference_prices`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from runner import markets as mk
from runner.runtime import Runtime
from state_store import transitions as t
from state_store.models import Window

log = logging.getLogger(__name__)

STRIKE_TOLERANCE_S = 2.0  # how far before the start a price may be stamped and still count


@dataclass(frozen=True)
class Strike:
    price: str
    ts: float


@dataclass(frozen=True)
class NoStrike:
    reason: str


def choose_strike(
    points: Sequence[tuple[float, str]], start_ts: float, now: float,
    tolerance_s: float = STRIKE_TOLERANCE_S,
) -> Strike | NoStrike | None:  # fmt: skip
    """The strike from (timestamp, price) points, oldest first; None while undecided."""
    before = [p for p in points if start_ts - tolerance_s <= p[0] <= start_ts]
    after = [p for p in points if p[0] >= start_ts]
    if not after and now < start_ts + tolerance_s:
        return None  # a point stamped at the start may still arrive
    if before:
        ts, price = before[-1]
        return Strike(price, ts)
    if after:
        return NoStrike(
            f"no reference price in the {tolerance_s:g} s before the start; "
            f"the first one after it is stamped {after[0][0]:.3f}"
        )
    return NoStrike(f"no reference price from {tolerance_s:g} s before the start to {now:.0f}")


def streamed(rt: Runtime) -> bool:
    return rt.feeds is not None and rt.feeds.prices is not None


def venue_strikes(rt: Runtime, windows: list[Window]) -> list[Window]:
    """Windows as the venue lists them; with a price stream, without the venue's start
    price (the strike comes from the stream, the source the markets resolve on)."""
    if not streamed(rt):
        return windows
    return [replace(w, start_price="") for w in windows]


def publish_prices(rt: Runtime) -> None:
    """Append the points the price stream received since the last tick to Redis."""
    prices = rt.feeds.prices if rt.feeds is not None else None
    if prices is None:
        return
    calls = []
    for asset in prices.assets:
        since = rt.reference.appended.get(asset, 0.0)
        points = [(p.ts, str(p.price)) for p in prices.history(asset) if p.ts > since]
        if points:
            calls.append(t.append_prices(rt.store.keys, asset, points))
            rt.reference.appended[asset] = points[-1][0]
    rt.store.execute(calls)


def record_strikes(rt: Runtime, windows: Iterable[Window], now: float) -> None:
    """Record the strike of every started window that has none yet (any replica may)."""
    if not streamed(rt):
        return
    pending = [
        w for w in windows if w.start_ts <= now and w.market not in rt.reference.strikes_done
    ]
    calls = []
    for window in pending:
        points = points_around(rt, window.asset, window.start_ts)
        choice = choose_strike(points, window.start_ts, now)
        if isinstance(choice, Strike):
            calls.append(t.record_strike(rt.store.keys, window.market, choice.price, choice.ts,
                                         "stream"))  # fmt: skip
        elif isinstance(choice, NoStrike):
            calls.append(t.strike_missing(rt.store.keys, window.market, choice.reason))
        if choice is not None:
            rt.reference.strikes_done.add(window.market)
    for result in rt.store.execute(calls):
        if result.outcome == "missing":
            log.warning("strike not captured: %s", result.detail)
    live = {w.market for w in windows}
    rt.reference.strikes_done &= live  # forget windows that are over


def points_around(rt: Runtime, asset: str, start_ts: float) -> list[tuple[float, str]]:
    """(timestamp, price) points near a start: Redis (every replica's) and this runner's own
    (a point another replica's newer one kept out of the Redis stream, which only grows)."""
    low, high = start_ts - STRIKE_TOLERANCE_S, start_ts + STRIKE_TOLERANCE_S
    merged = dict(rt.store.prices(asset, low, high))
    prices = rt.feeds.prices if rt.feeds is not None else None
    for point in prices.history(asset) if prices is not None else ():
        if low <= point.ts <= high:
            merged.setdefault(point.ts, str(point.price))
    return sorted(merged.items())


def reference_prices(rt: Runtime, assets: Iterable[str]) -> dict[str, Decimal]:
    """The reference price per asset: the price stream's last, else the venue's (paper)."""
    prices = rt.feeds.prices if rt.feeds is not None else None
    if prices is None:
        return mk.reference_prices(rt.venue, assets)
    out: dict[str, Decimal] = {}
    for asset in sorted(set(assets)):
        point = prices.last(asset)
        if point is not None:
            try:
                out[asset] = Decimal(str(point.price))
            except InvalidOperation:
                continue
    return out
