"""The demo's one-line summary: replicas and their ticks, orders, positions, PnL, last reload.

Runner sections and reloads come from status.json (what the runners wrote),
positions from Redis. A replica that is paused (or killed) or degraded (Redis
lost) says so; the last reload of this run is shown with its verdict, a
rejected or rolled-back one with its error. Never raises: a summary that
cannot be read says so.
"""

from __future__ import annotations

import time
from decimal import Decimal

import redis

from state_store.settings import Settings
from state_store.status import RunnerStatus, StatusFile, read_status_file
from state_store.store import Store

STALE_S = 30.0


def summary_line(
    settings: Settings, client: redis.Redis, elapsed_s: float, since: float = 0.0
) -> str:
    """The line; reloads older than `since` (an earlier run in the same home) are left out."""
    clock = time.strftime("%M:%S", time.gmtime(elapsed_s))
    status = read_status_file(settings.status_file)
    parts = [runners_part(status), positions_part(settings, client), reload_part(status, since)]
    return f"[demo {clock}] " + " | ".join(p for p in parts if p)


def runners_part(status: StatusFile) -> str:
    if not status.runners:
        return "no runner has reported yet"
    cells, orders, fills = [], 0, 0
    for replica, section in sorted(status.runners.items()):
        if section.stopped:
            continue
        if time.time() - section.heartbeat > STALE_S:
            continue  # a replica of an earlier run that did not stop cleanly
        cells.append(
            f"{replica} tick {section.tick} ({len(section.markets)} mkts){_flags(section)}"
        )
        orders += section.orders_created
        fills += section.fills_applied
    if not cells:
        return "no runner is ticking"
    return ", ".join(cells) + f" | orders {orders} fills {fills} (since the runners started)"


def _flags(section: RunnerStatus) -> str:
    """What an operator must not miss about a replica: no new entries, or no Redis."""
    flags = []
    if section.paused:
        flags.append(" PAUSED")
    if section.degraded:
        flags.append(" DEGRADED (Redis lost: no new orders)")
    return "".join(flags)


def positions_part(settings: Settings, client: redis.Redis) -> str:
    try:
        positions = Store(client, settings.bot).positions()
    except redis.RedisError as exc:
        return f"positions unavailable ({exc})"
    settled = [p for p in positions if p.settled]
    open_ = [p for p in positions if not p.settled and p.fill_count]
    pnl = sum((p.realized_pnl for p in settled), Decimal(0))
    at_risk = -sum((p.cash for p in open_), Decimal(0))
    return (
        f"open positions {len(open_)} (cost {at_risk:.2f}) | "
        f"realized PnL {pnl:+.2f} over {len(settled)} settled"
    )


def reload_part(status: StatusFile, since: float = 0.0) -> str:
    reloads = [r for r in status.reloads if r.ts >= since]
    if not reloads:
        return ""
    last = reloads[-1]
    when = time.strftime("%H:%M:%S", time.localtime(last.ts))
    failed = (last.kind or "failed").replace("_", " ").upper()
    verdict = "ok" if last.ok else f"{failed}: {last.error[:60]}"
    return f"last reload {last.kind or '?'} {last.generation[:8]} {verdict} at {when}"
