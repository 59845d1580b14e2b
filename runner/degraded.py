"""Ticks without Redis: no new orders; control.json, status.json and the fill journal go on."""

from __future__ import annotations

import logging
import time

from exchange.errors import VenueError
from runner import journal
from runner.adopt import Adopter, restore_fills
from runner.control_read import read_desired
from runner.health import halt, venue_answered, venue_failed
from runner.manifest import manifest_entry
from runner.orders import apply_venue_fills
from runner.repairs import RepairLog
from runner.runtime import Runtime
from runner.tick import status_section
from state_store.errors import OperationalError
from state_store.manifest import ManifestEntry, publish
from state_store.status import write_status_file

log = logging.getLogger(__name__)


def degraded_tick(rt: Runtime, *, finishes_tick: bool = False) -> None:
    """One tick without Redis; `finishes_tick` when it ends a tick that lost Redis midway."""
    if not finishes_tick:
        rt.tick += 1
    rt.degraded = True
    read_desired(rt, redis_up=False)
    events = rt.reloader.at_tick_boundary(rt.tick)  # nothing new is published without Redis
    reloads: list[ManifestEntry] = [manifest_entry(e, rt.config.replica) for e in events]
    path = journal.journal_path(rt.settings.home, rt.settings.bot, rt.config.replica)
    try:
        _, journal_cursor = journal.read(path)
        fills, cursor = rt.venue.fills_since(journal_cursor or rt.fill_cursor)
        if fills or cursor != (journal_cursor or rt.fill_cursor):
            journal.append(path, fills, cursor)
        rt.fill_cursor = cursor
        venue_answered(rt)
    except OperationalError as exc:
        halt(rt, exc)
    except VenueError as exc:
        venue_failed(rt, exc)
    rt.unpublished.extend(reloads)
    rt.last_tick_at = time.time()
    write_status_file(rt.settings.status_file, rt.config.replica, status_section(rt), reloads)


def recover(rt: Runtime) -> int:
    """Redis is back: apply the journal (idempotent), advance the cursor, set it aside."""
    path = journal.journal_path(rt.settings.home, rt.settings.bot, rt.config.replica)
    fills, cursor = journal.read(path)
    adopter = Adopter(rt.store, rt.venue, RepairLog(rt.store, rt.settings, rt.config.replica))
    applied = apply_venue_fills(  # fills of orders Redis lost meanwhile adopt their order
        rt.store, fills, lambda unmapped: restore_fills(rt.store, unmapped, adopter)
    )
    if cursor:
        rt.store.client.set(rt.store.keys.fill_cursor, cursor)
    journal.set_aside(path)
    publish(rt.client, rt.store.keys, rt.unpublished)
    rt.unpublished.clear()
    rt.degraded = False
    log.warning("redis is back: applied %d journaled fills of %d", applied, len(fills))
    return applied
