"""The composition root: the one function that builds a runner's Runtime from settings.

`neverblink run`, `neverblink replay`, the benchmarks and the tests all call
`build_runtime`, so the tests exercise the wiring production uses. What a
caller may hand in instead of having it built (a venue client of its own, a
Redis client it owns, publisher options) is a parameter; everything else
(store, reloader, quarantine, the strategy host and its caller, the
in-process publisher, the first code generation) is assembled here and nowhere
else. Strategy code never runs in a runner's interpreter: the reloader loads
generations into the runner's strategy host (`HostLoader`), the tick calls it
through `HostCaller`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import redis

from exchange.auth import ApiCredentials
from exchange.client import ClobClient
from exchange.factory import VenueSpec, open_venue
from exchange.venue import Venue
from runner.host.caller import HostCaller
from runner.host.client import StrategyHost
from runner.host.loading import AdoptingValidator, HostLoader
from runner.manifest import manifest_entry
from runner.publish.publisher import Publisher, PublishOptions
from runner.published import adopt_initial
from runner.reload import Reloader
from runner.reload.quarantine import RedisQuarantine
from runner.runtime import RunnerConfig, Runtime
from state_store.connection import connect, jobs_redis_url
from state_store.errors import REDIS_UNAVAILABLE
from state_store.manifest import publish
from state_store.settings import Settings
from state_store.store import Store

if TYPE_CHECKING:  # the stream clients import the Polymarket SDK (seconds): live only
    from exchange.streams.feeds import FeedConfig, LiveFeeds
    from runner.discovery import DiscoveryConfig

log = logging.getLogger(__name__)

INITIAL_LOAD_S = 30.0  # at most this long before the first tick for the first generation


def build_runtime(
    settings: Settings,
    config: RunnerConfig,
    venue_url: str = "",
    *,
    venue_spec: VenueSpec | None = None,
    venue: Venue | None = None,
    client: redis.Redis | None = None,
    publish_options: PublishOptions | None = None,
    feed_config: FeedConfig | None = None,
    discovery: DiscoveryConfig | None = None,
    initial_load_s: float = INITIAL_LOAD_S,
) -> Runtime:
    """A runner ready for its first tick, its first code generation adopted (when published).

    `venue`: a venue client the caller made and owns; otherwise the one `venue_spec`
    names (paper or live, `exchange.factory`), or the paper CLOB client for
    `venue_url`, with the runner's per-call deadline; the spec is also what the
    runner's settlement jobs open (with a caller's `venue`: how a worker reaches
    it). `client`: a Redis client the caller owns. `feed_config`: the venue's
    streams to run (`exchange.streams.feeds`); the user channel signs in with the
    venue's API credentials. `discovery`: find the windows on Gamma by slug
    (`runner.discovery`) instead of listing the venue's markets every tick.
    `close_runtime` closes only what was made here.
    """
    jobs_redis_url(settings)  # a bot on a Cluster must name its jobs Redis: refuse at start
    closers: list[Callable[[], object]] = []
    if venue is None:  # first: a live venue refused (no key, no URL) leaves nothing open
        venue_spec = venue_spec or VenueSpec("paper", venue_url)
        venue, close_venue = open_venue(venue_spec, config.venue_deadline_s)
        closers.append(close_venue)
    if client is None:
        client = connect(settings)
        closers.append(client.close)
    store = Store(client, settings.bot)
    host = StrategyHost(budget_s=config.decide_budget_s, load_timeout_s=config.validate_timeout_s)
    caller = HostCaller(host)
    closers.insert(0, caller.close)
    loader = HostLoader(host)
    reloader = Reloader(
        settings.strategies,
        probation_ticks=config.probation_ticks,
        quarantine=RedisQuarantine(client, store.keys),
        only=config.strategies or None,
        loader=loader,
    )
    closers.insert(0, reloader.close)
    # the same publisher `neverblink watch` runs: it publishes only while it holds the
    # lease, so with a watch (or another runner) publishing it waits as a standby
    options = publish_options or PublishOptions(
        validate_timeout=config.validate_timeout_s, notify=False
    )
    # it validates in candidates of this runner's host and hands the one that passed to the
    # loader: the tick that adopts the generation swaps in that process (one load, not two)
    validator = AdoptingValidator(loader)
    publisher = Publisher(settings, client, options, candidates=validator)
    publisher.on_publish = loader.prefetch  # a no-op when its candidate was offered
    publisher.start()
    closers.insert(0, validator.close)
    closers.insert(0, publisher.close)
    feeds = open_feeds(feed_config, venue) if feed_config is not None else None
    if feeds is not None:
        closers.insert(0, feeds.stop)
    finder = None
    if discovery is not None:
        from runner.discovery import WindowFinder

        deadline = min(discovery.timeout_s, config.venue_deadline_s)  # a Gamma request's too
        finder = WindowFinder(replace(discovery, timeout_s=deadline), store, config.replica, venue)
        closers.insert(0, finder.close)
    rt = Runtime(
        settings=settings,
        config=config,
        client=client,
        store=store,
        venue=venue,
        reloader=reloader,
        caller=caller,
        publisher=publisher,
        feeds=feeds,
        closers=closers,
        venue_spec=venue_spec,
        discovery=finder,
    )
    adopt_first_generation(rt, initial_load_s)
    return rt


def open_feeds(config: FeedConfig, venue: Venue) -> LiveFeeds:
    """Start the configured streams; the user channel gets the venue's API credentials (a
    paper client without any signs in as its owner: an open paper venue takes any key)."""
    from exchange.streams.feeds import LiveFeeds

    if config.user_url and config.credentials is None:
        credentials = getattr(venue, "credentials", None)
        owner = getattr(venue, "owner", None)
        if credentials is None and isinstance(venue, ClobClient) and isinstance(owner, str):
            credentials = ApiCredentials(owner, "", "")
        if credentials is None:
            raise ValueError("the user channel needs the venue's API credentials")
        config = replace(config, credentials=credentials)
    return LiveFeeds(config).start()


def adopt_first_generation(rt: Runtime, timeout_s: float) -> None:
    """Wait (bounded) for the published generation and load it; with Redis down, start
    degraded and without code (it is adopted once Redis is back)."""
    try:
        events = adopt_initial(rt, timeout_s)
    except REDIS_UNAVAILABLE as exc:
        log.warning("redis unreachable at start (%s): starting degraded, without code", exc)
        rt.degraded = True
        events = []
    entries = [manifest_entry(e, rt.config.replica) for e in events]
    try:
        publish(rt.client, rt.store.keys, entries)
    except REDIS_UNAVAILABLE:
        rt.degraded = True
        rt.unpublished.extend(entries)  # published when Redis is back
    for entry in entries:
        log.info("code %s %s %s", entry.kind, entry.generation, entry.error)


def close_runtime(rt: Runtime) -> None:
    """Close what `build_runtime` opened (after the loop's own teardown), newest first."""
    for close in rt.closers:
        try:
            close()
        except Exception as exc:  # closing one handle must not leave the others open
            log.warning("closing %r failed: %s", close, exc)
    rt.closers.clear()
