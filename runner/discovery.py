"""Which windows the tick trades: found on Gamma by slug before they open, not listed each tick.

For every configured series (asset x interval) the slug of each window is
known in advance (`exchange.slugs`). The runner asks Gamma for a window
(`GET /markets/slug/{slug}`, `exchange.streams.Discovery`) once, ahead of
time (from the middle of the window two before it, with `ahead=1`: never at
the tick a window opens), and records it in its Redis window record with its
terms (`open_window.lua`: tokens, tick size, minimum order size, fee rate and
exponent, neg-risk flag; idempotent, the first writer wins). The tick then
trades the windows of its series that have started.

- Steady state: every due window is in this runner's cache: no request to
  Gamma, no Redis read, no market listing.
- A window this runner does not know yet is read from Redis first (another
  replica may have found it); of the replicas that do not find it there, only
  the one that takes its claim key (`SET NX PX`) asks Gamma; the others read
  the record at a later tick.
- A window Gamma does not list (404, an unreadable answer) is recorded in
  `nb:{B}:discovery:unlisted` with the time to ask again (`retry_after_s`
  later; `error_retry_s` when Gamma did not answer); the replica that asked
  logs it once, every runner shows it in its status (`unlisted_windows`, and
  `ctl status`), and nobody asks again before that time, nor after the window
  is over.
- Gamma does not carry a window's start price: without a price stream, a
  started window's start price is asked of the venue once
  (`GET /markets/{condition_id}`; the paper venue knows it).
- Gamma's answer is parsed with polymarket-client's `Market` when the SDK is
  loaded (a live venue, the streams), else with `exchange.gamma.parse_window`
  (tested to agree), so a paper runner does not pay the SDK's import.
- A live venue is told each window's terms (`LiveVenue.learn_market`), so it
  signs orders without looking the market up per token.

When the data guard finds that Redis went back it calls `reset()`: the
windows are read from Redis again and found again where they are gone.

Without a `DiscoveryConfig` the runner lists the venue's markets every tick
(`list_windows`), as before discovery existed.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import httpx

from exchange.errors import VenueError
from exchange.gamma import DiscoveredWindow, GammaClient, Parse, parse_window
from exchange.slugs import INTERVALS, window_slug, window_start
from exchange.venue import Venue
from runner import markets as mk
from runner import strikes
from state_store import transitions as t
from state_store.codec import window_from
from state_store.models import Window
from state_store.store import Store

if TYPE_CHECKING:
    from runner.runtime import Runtime

log = logging.getLogger(__name__)

Series = tuple[str, str]  # (asset, interval label), e.g. ("btc", "5m")
REASON_CHARS = 200  # how much of why a window is not listed Redis and status keep


@dataclass(frozen=True)
class DiscoveryConfig:
    """Where and what to discover. `series` empty and `lengths` None: the paper venue's
    (`/paper/info`); `lengths` None on another venue: the nominal 300 s / 900 s."""

    gamma_url: str
    series: tuple[Series, ...] = ()
    lengths: Mapping[str, int] | None = None
    ahead: int = 1  # windows known before they open, per series (asked half a window earlier)
    retry_after_s: float = 60.0  # a window Gamma does not list is asked again this much later
    error_retry_s: float = 5.0  # ... and this much later when Gamma did not answer
    claim_ms: int = 10_000  # one replica asks for a window; the others wait this long at most
    timeout_s: float = 2.0  # one Gamma request


@dataclass(frozen=True)
class Unlisted:
    retry_at: float  # wall time
    reason: str

    def encode(self) -> str:
        return f"{self.retry_at:.3f}|{self.reason}"

    @classmethod
    def decode(cls, raw: str | None) -> Unlisted | None:
        if not raw or "|" not in raw:
            return None
        at, _, reason = raw.partition("|")
        try:
            return cls(float(at), reason)
        except ValueError:
            return None


def parse_series(text: str) -> tuple[Series, ...]:
    """`btc-5m,eth-15m` -> (("btc", "5m"), ("eth", "15m")); ValueError for anything else."""
    out: list[Series] = []
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        asset, _, interval = item.rpartition("-")
        window_slug(asset, interval, 0)  # ValueError for an unknown asset or interval
        if (asset, interval) not in out:
            out.append((asset, interval))
    if not out:
        raise ValueError("no series given")
    return tuple(out)


def to_window(found: DiscoveredWindow) -> Window:
    return Window(
        market=found.slug, asset=found.asset, interval=found.interval,
        start_ts=float(found.start_ts), end_ts=float(found.end_ts),
        condition_id=found.condition_id, up_token=found.up_token, down_token=found.down_token,
        tick_size=found.tick_size, min_order_size=found.min_order_size, fee_rate=found.fee_rate,
        fee_exponent=Decimal(str(found.fee_exponent)), neg_risk=found.neg_risk,
        terms_source="gamma",
    )  # fmt: skip


class WindowFinder:
    """One runner's discovery: its cache of the windows it knows, Redis for the rest."""

    def __init__(
        self,
        config: DiscoveryConfig,
        store: Store,
        replica: str,
        venue: Venue | None = None,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.replica = replica
        self.venue = venue
        self.clock = clock
        self._http = http
        self._gamma: GammaClient | None = None  # made at the first tick (see `gamma`)
        self.series: tuple[Series, ...] = ()
        self.lengths: dict[str, int] = {}
        self.known: dict[str, Window] = {}  # slug -> its window, recorded in Redis
        self.unlisted: dict[str, Unlisted] = {}  # slug -> as recorded in Redis
        self.priced: set[str] = set()  # started windows whose venue start price was asked

    def gamma(self) -> GammaClient:
        """The Gamma client; the series and lengths are settled first (a paper venue is
        asked for its own: a VenueError while it does not answer, the tick tries again)."""
        if self._gamma is None:
            self.series, self.lengths = resolve_series(self.config, self.venue)
            self._gamma = GammaClient(
                self.config.gamma_url, gamma_parser(), self._http, self.config.timeout_s
            )
        return self._gamma

    @property
    def requests(self) -> int:
        """Requests this runner made to Gamma."""
        return self._gamma.requests if self._gamma is not None else 0

    def close(self) -> None:
        if self._gamma is not None:
            self._gamma.close()
        elif self._http is not None:
            self._http.close()

    def due(self, now: float) -> list[str]:
        """Slugs of the current window of every series and of those starting within `ahead`
        and a half window lengths: a window is asked for from the middle of the window two
        before it, so the request never falls on the tick at which a window opens."""
        slugs = []
        for asset, interval in self.series:
            length = self.lengths[interval]
            start, horizon = window_start(now, length), now + (self.config.ahead + 0.5) * length
            while start <= horizon:
                slugs.append(window_slug(asset, interval, start))
                start += length
        return slugs

    def windows(self, now: float) -> list[Window]:
        """The windows of the series that are live at venue time `now` (found, recorded)."""
        self.gamma()  # the series and lengths, settled once
        due = self.due(now)
        wall = self.clock()
        wanted = [s for s in due if s not in self.known and self._may_ask(s, wall)]
        if wanted:
            self._learn(wanted, wall)
        self._forget(set(due))
        return [
            w for s in due if (w := self.known.get(s)) is not None and w.start_ts <= now < w.end_ts
        ]

    def reset(self) -> None:
        """Forget what this runner knows (Redis went back: its records may be gone); the
        next tick reads Redis again and asks Gamma for what is not there."""
        self.known.clear()
        self.unlisted.clear()
        self.priced.clear()

    def unlisted_report(self) -> dict[str, str]:
        """Due windows Gamma did not list: slug -> why (for status)."""
        return {slug: u.reason for slug, u in sorted(self.unlisted.items())}

    def _may_ask(self, slug: str, wall: float) -> bool:
        entry = self.unlisted.get(slug)
        return entry is None or entry.retry_at <= wall

    def _learn(self, slugs: Sequence[str], wall: float) -> None:
        """Windows from Redis; the rest from Gamma, by this replica where it takes the claim."""
        keys = self.store.keys
        pipe = self.store.client.pipeline(transaction=False)
        for slug in slugs:
            pipe.hgetall(keys.window(slug))
            pipe.hget(keys.unlisted_windows, slug)
        replies = pipe.execute()
        ask = []
        for i, slug in enumerate(slugs):
            window = window_from(cast(dict[str, str], replies[2 * i]))
            if window is not None and window.terms_source:  # found, by this bot's runners
                self._know(window)
                continue
            entry = Unlisted.decode(cast("str | None", replies[2 * i + 1]))
            if entry is not None and entry.retry_at > wall:
                self.unlisted[slug] = entry
                continue
            ask.append(slug)
        self._ask(self._claim(ask), wall)

    def _claim(self, slugs: Sequence[str]) -> list[str]:
        """The slugs this replica may ask Gamma for: it took their claim, or holds it already."""
        if not slugs:
            return []
        claim_ms = max(1, min(self.config.claim_ms, int(self.config.retry_after_s * 1000)))
        keys = self.store.keys
        pipe = self.store.client.pipeline(transaction=False)
        for slug in slugs:
            pipe.set(keys.discovery_claim(slug), self.replica, nx=True, px=claim_ms)
            pipe.get(keys.discovery_claim(slug))
        replies = pipe.execute()
        return [
            slug
            for i, slug in enumerate(slugs)
            if replies[2 * i] or _text(replies[2 * i + 1]) == self.replica
        ]

    def _ask(self, slugs: Sequence[str], wall: float) -> None:
        keys = self.store.keys
        found: list[Window] = []
        missed: dict[str, Unlisted] = {}
        for slug in slugs:
            answer, reason = self.gamma().fetch(slug)
            if answer is not None:
                found.append(to_window(answer))
            else:
                missed[slug] = Unlisted(wall + self._retry_s(reason), reason[:REASON_CHARS])
        self.store.execute([t.open_window(keys, w) for w in found])
        pipe = self.store.client.pipeline(transaction=False)
        for window in found:
            pipe.hdel(keys.unlisted_windows, window.market)
        for slug, entry in missed.items():
            pipe.hset(keys.unlisted_windows, slug, entry.encode())
        replies = pipe.execute() if found or missed else []
        for window in found:
            self._know(window)
        for (slug, entry), new in zip(missed.items(), replies[len(found) :], strict=True):
            self.unlisted[slug] = entry
            if new:
                log.warning("window %s is not listed by Gamma (%s): asking again in %.0f s",
                            slug, entry.reason, entry.retry_at - wall)  # fmt: skip

    def _retry_s(self, reason: str) -> float:
        """Gamma answered without the window (404, not an Up/Down market): `retry_after_s`;
        it did not answer (a timeout, a 5xx, rate limited): `error_retry_s`."""
        answered = reason.startswith(("HTTP 404", "HTTP 410", "unreadable"))
        return self.config.retry_after_s if answered else self.config.error_retry_s

    def _know(self, window: Window) -> None:
        self.known[window.market] = window
        self.unlisted.pop(window.market, None)
        learn = getattr(self.venue, "learn_market", None)
        if learn is not None and window.tick_size is not None:
            learn(
                window.condition_id, (window.up_token, window.down_token), window.tick_size,
                window.neg_risk, window.fee_rate or Decimal(0), window.fee_exponent or Decimal(1),
            )  # fmt: skip

    def _forget(self, due: set[str]) -> None:
        """Drop windows that are no longer due (over); their unlisted entries from Redis too."""
        self.known = {s: w for s, w in self.known.items() if s in due}
        over = [s for s in self.unlisted if s not in due]
        if over:
            self.store.client.hdel(self.store.keys.unlisted_windows, *over)
            for slug in over:
                del self.unlisted[slug]
        self.priced &= due


def _text(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw or "")


def gamma_parser() -> Parse:
    """polymarket-client's Gamma `Market` once the SDK is loaded (a live venue, the streams),
    else the SDK-free `parse_window` (the paper runner path does not pay the SDK's import)."""
    if "polymarket" not in sys.modules:
        return parse_window
    from exchange.streams.discovery import parse_market

    return parse_market


def resolve_series(
    config: DiscoveryConfig, venue: Venue | None
) -> tuple[tuple[Series, ...], dict[str, int]]:
    """The series and window lengths to use: the configured ones, else the paper venue's."""
    info: dict[str, Any] = {}
    if not config.series or config.lengths is None:
        paper_info = getattr(venue, "paper_info", None)
        info = paper_info() if paper_info is not None else {}
    lengths = dict(config.lengths or info.get("window_lengths") or INTERVALS)
    series = config.series or tuple(
        (str(asset), str(interval)) for asset in info.get("assets", ()) for interval in lengths
    )
    if not series:
        raise ValueError("discovery needs the series to find (e.g. btc-5m,eth-15m)")
    unknown = sorted({i for _, i in series} - set(lengths))
    if unknown:
        raise ValueError(f"no window length for interval(s) {unknown}")
    return series, {k: int(v) for k, v in lengths.items()}


def tick_windows(rt: Runtime, now: float) -> list[Window]:
    """The live windows this tick trades: discovered, else from the venue's market list."""
    finder = rt.discovery
    if finder is None:
        windows = mk.live_windows(rt.venue.list_windows(), now)
        mk.record_windows(rt.store, strikes.venue_strikes(rt, windows))
        return windows
    windows = finder.windows(now)
    if not strikes.streamed(rt):
        venue_start_prices(rt, finder, windows)
    return windows


def venue_start_prices(rt: Runtime, finder: WindowFinder, windows: Iterable[Window]) -> None:
    """The venue's start price of each started window that has none in Redis, asked once per
    runner (Gamma carries none)."""
    getter = getattr(rt.venue, "market_window", None)
    pending = [w for w in windows if w.market not in finder.priced]
    if getter is None or not pending:
        return
    pipe = rt.client.pipeline(transaction=False)
    for window in pending:
        pipe.hget(rt.store.keys.window(window.market), "start_price")
    calls = []
    for window, recorded in zip(pending, pipe.execute(), strict=True):
        if recorded:  # another replica (or the price stream) recorded it
            finder.priced.add(window.market)
            continue
        try:
            listed = getter(window.condition_id)
        except VenueError as exc:
            log.debug("no venue start price for %s yet: %s", window.market, exc)
            continue
        finder.priced.add(window.market)
        if listed is not None and listed.start_price:
            priced = replace(window, start_price=listed.start_price)
            calls.append(t.open_window(rt.store.keys, priced))
    rt.store.execute(calls)
