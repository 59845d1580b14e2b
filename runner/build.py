"""Assembling a runner from settings: connections, venue client, reloader, publisher."""

from __future__ import annotations

import logging

import redis

from exchange.client import ClobClient
from runner.manifest import manifest_entry, publish
from runner.publish.publisher import Publisher, PublishOptions
from runner.published import adopt_initial
from runner.reload import Reloader
from runner.reload.quarantine import RedisQuarantine
from runner.runtime import RunnerConfig, Runtime
from runner.strategy_call import StrategyCaller
from state_store.connection import connect
from state_store.settings import Settings
from state_store.store import Store

log = logging.getLogger(__name__)

REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)
INITIAL_LOAD_S = 30.0  # at most this long before the first tick for the first generation


def build_runtime(settings: Settings, config: RunnerConfig, venue_url: str) -> Runtime:
    client = connect(settings)
    store = Store(client, settings.bot)
    reloader = Reloader(
        settings.strategies,
        probation_ticks=config.probation_ticks,
        quarantine=RedisQuarantine(client, store.keys),
        only=config.strategies or None,
    )
    # the same publisher `neverblink watch` runs: it publishes only while it holds the
    # lease, so with a watch (or another runner) publishing it waits as a standby
    publisher = Publisher(
        settings, client, PublishOptions(validate_timeout=config.validate_timeout_s, notify=False)
    )
    publisher.start()
    rt = Runtime(
        settings=settings,
        config=config,
        client=client,
        store=store,
        venue=ClobClient(venue_url),
        reloader=reloader,
        caller=StrategyCaller(config.decide_budget_s),
        publisher=publisher,
    )
    try:
        events = adopt_initial(rt, INITIAL_LOAD_S)
    except REDIS_DOWN as exc:
        log.warning("redis unreachable at start (%s): starting degraded, without code", exc)
        rt.degraded = True
        events = []
    entries = [manifest_entry(e, config.replica) for e in events]
    try:
        publish(client, store.keys, entries)
    except REDIS_DOWN:
        rt.degraded = True
        rt.unpublished.extend(entries)  # published when Redis is back
    for entry in entries:
        log.info("code %s %s %s", entry["kind"], entry["generation"], entry["error"])
    return rt


def close_runtime(rt: Runtime) -> None:
    """Stop the publisher and close the connections `build_runtime` opened (after the
    loop's own teardown)."""
    if rt.publisher is not None:
        rt.publisher.close()
    close_venue = getattr(rt.venue, "close", None)
    if callable(close_venue):
        close_venue()
    rt.client.close()
