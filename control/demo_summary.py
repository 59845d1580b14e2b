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
from typing import Any

import redis

from state_store.files import read_json
from state_store.settings import Settings
from state_store.store import Store

STALE_S = 30.0


def summary_line(
    settings: Settings, client: redis.Redis, elapsed_s: float, since: float = 0.0
) -> str:
    """The line; reloads older than `since` (an earlier run in the same home) are left out."""
    clock = time.strftime("%M:%S", time.gmtime(elapsed_s))
    status = read_json(settings.status_file)
    status = status if isinstance(status, dict) else {}
    parts = [runners_part(status), positions_part(settings, client), reload_part(status, since)]
    return f"[demo {clock}] " + " | ".join(p for p in parts if p)


def runners_part(status: dict[str, Any]) -> str:
    runners = status.get("runners")
    if not isinstance(runners, dict) or not runners:
        return "no runner has reported yet"
    cells, orders, fills = [], 0, 0
    for replica, section in sorted(runners.items()):
        if not isinstance(section, dict) or section.get("stopped"):
            continue
        if time.time() - float(section.get("heartbeat") or 0) > STALE_S:
            continue  # a replica of an earlier run that did not stop cleanly
        markets = section.get("markets") or []
        tick = section.get("tick", "?")
        cells.append(f"{replica} tick {tick} ({len(markets)} mkts){_flags(section)}")
        orders += int(section.get("orders_created") or 0)
        fills += int(section.get("fills_applied") or 0)
    if not cells:
        return "no runner is ticking"
    return ", ".join(cells) + f" | orders {orders} fills {fills} (since the runners started)"


def _flags(section: dict[str, Any]) -> str:
    """What an operator must not miss about a replica: no new entries, or no Redis."""
    flags = []
    if section.get("paused"):
        flags.append(" PAUSED")
    if section.get("degraded"):
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


def reload_part(status: dict[str, Any], since: float = 0.0) -> str:
    reloads = status.get("reloads")
    if not isinstance(reloads, list):
        return ""
    reloads = [r for r in reloads if isinstance(r, dict) and float(r.get("ts") or 0) >= since]
    if not reloads:
        return ""
    last = reloads[-1]
    when = time.strftime("%H:%M:%S", time.localtime(float(last.get("ts") or 0)))
    failed = str(last.get("kind") or "failed").replace("_", " ").upper()
    verdict = "ok" if last.get("ok") else f"{failed}: {str(last.get('error', ''))[:60]}"
    generation = str(last.get("generation", ""))[:8]
    return f"last reload {last.get('kind', '?')} {generation} {verdict} at {when}"
