"""Assembling a runner from settings: connections, venue client, reloader."""

from __future__ import annotations

import logging

from exchange.client import ClobClient
from runner.manifest import manifest_entry
from runner.published import sync_published
from runner.quarantine import RedisQuarantine
from runner.reload import Reloader
from runner.runtime import RunnerConfig, Runtime
from runner.strategy_call import StrategyCaller
from state_store.connection import connect
from state_store.errors import REDIS_UNAVAILABLE
from state_store.manifest import publish
from state_store.settings import Settings
from state_store.store import Store

log = logging.getLogger(__name__)


def build_runtime(settings: Settings, config: RunnerConfig, venue_url: str) -> Runtime:
    client = connect(settings)
    store = Store(client, settings.bot)
    reloader = Reloader(
        settings.strategies,
        probation_ticks=config.probation_ticks,
        validate_timeout=config.validate_timeout_s,
        quarantine=RedisQuarantine(client, store.keys),
        only=config.strategies or None,
    )
    rt = Runtime(
        settings=settings,
        config=config,
        client=client,
        store=store,
        venue=ClobClient(venue_url, timeout=config.venue_deadline_s),
        reloader=reloader,
        caller=StrategyCaller(config.decide_budget_s),
    )
    try:
        sync_published(rt)  # with a watcher active, the first load adopts its generation
    except REDIS_UNAVAILABLE as exc:
        log.warning("redis unreachable at start (%s): starting degraded", exc)
        rt.degraded = True
    entries = [manifest_entry(e, config.replica) for e in reloader.load_initial()]
    try:
        publish(client, store.keys, entries)
    except REDIS_UNAVAILABLE:
        rt.degraded = True
        rt.unpublished.extend(entries)  # published when Redis is back
    for entry in entries:
        log.info("code %s %s %s", entry.kind, entry.generation, entry.error)
    return rt


def close_runtime(rt: Runtime) -> None:
    """Close the connections `build_runtime` opened (after the loop's own teardown)."""
    close_venue = getattr(rt.venue, "close", None)
    if callable(close_venue):
        close_venue()
    rt.client.close()
