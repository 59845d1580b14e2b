"""The JSON the read routes (and the event stream) answer, built from ControlService reads.

Every report names its `plane`: "redis", or "file" with a `note` when Redis is
unreachable and the answer comes from status.json / control.json.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

import redis

from control.service import ControlService
from runner.manifest import from_stream_fields
from state_store.codec import plain
from state_store.errors import REDIS_UNAVAILABLE
from state_store.files import read_json
from state_store.models import MarketSnapshot, Order, Position
from state_store.store import Store

RELOADS_LIMIT = 50
OUTCOME_BY_KIND = {"rolled_back": "rolled_back", "rejected": "failed", "promoted": "ok"}


def file_note(service: ControlService, what: str) -> str:
    problem = service.redis_problem or "Redis is unreachable"
    return f"{problem}: {what} from the files of {service.settings.home}"


def status_report(service: ControlService) -> dict[str, Any]:
    status = service.status()
    status["server_time"] = round(time.time(), 3)
    if status.get("plane") == "file":
        status["note"] = file_note(
            service, "runners and reloads from status.json, control from control.json; "
            "positions and orders unknown"
        )  # fmt: skip
    return status


# -- reloads ---------------------------------------------------------------------


def reload_entries(service: ControlService, limit: int) -> tuple[list[dict[str, Any]], str]:
    """The newest `limit` manifest entries (oldest first) and the plane they came from."""
    client = service.client()
    if client is not None:
        try:
            keys = service.keys
            rows = cast(Any, client.xrevrange(keys.reloads, count=limit))
            return [{"id": rid, **from_stream_fields(f)} for rid, f in reversed(rows)], "redis"
        except REDIS_UNAVAILABLE as exc:
            service.redis_problem = str(exc)
    status = read_json(service.settings.status_file)
    entries = status.get("reloads") if isinstance(status, dict) else None
    if not isinstance(entries, list):
        return [], "file"
    return [e for e in entries if isinstance(e, dict)][-limit:], "file"


def reloads_report(service: ControlService, limit: int = RELOADS_LIMIT) -> dict[str, Any]:
    entries, plane = reload_entries(service, limit)
    report: dict[str, Any] = {
        "plane": plane,
        "entries": entries,
        "generations": group_reloads(entries),
    }
    if plane == "file":
        report["note"] = file_note(service, "the recent reload manifest of status.json")
    return report


def group_reloads(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per code generation (entries oldest first; rows newest first), with what
    each replica did with it.

    `replicas[r]` is the replica's last entry (kind, tick, ts) plus its `history`
    (e.g. live at tick 44, promoted at tick 63).

    outcome: "rolled_back" if any replica rolled it back, "failed" if it was rejected,
    "ok" once promoted (survived probation), "live" while on probation, else the kind.
    """
    rows: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries):
        generation = str(entry.get("generation") or "")
        row = rows.setdefault(generation, _new_row(generation, entry))
        row["order"] = index
        row["last_ts"] = max(row["last_ts"], float(entry.get("ts") or 0))
        kind = str(entry.get("kind") or "")
        replica = str(entry.get("replica") or "?")
        row["kinds"].add(kind)
        step = {"kind": kind, "tick": entry.get("tick"), "ts": entry.get("ts")}
        seen = row["replicas"].setdefault(replica, {"history": []})
        seen.update(step)
        seen["history"].append(step)
        if entry.get("error"):
            row["error"] = str(entry["error"])
        if entry.get("git_sha"):
            row["git_sha"], row["git_dirty"] = entry["git_sha"], bool(entry.get("git_dirty"))
    out = []
    for row in sorted(rows.values(), key=lambda r: int(r["order"]), reverse=True):
        del row["order"]
        kinds = row.pop("kinds")
        row["outcome"] = _outcome(kinds)
        out.append(row)
    return out


def _new_row(generation: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "generation": generation,
        "first_ts": float(entry.get("ts") or 0),
        "last_ts": 0.0,
        "modules": list(entry.get("modules") or []),
        "git_sha": str(entry.get("git_sha") or ""),
        "git_dirty": bool(entry.get("git_dirty")),
        "error": "",
        "replicas": {},
        "kinds": set(),
    }


def _outcome(kinds: set[str]) -> str:
    for kind, outcome in OUTCOME_BY_KIND.items():
        if kind in kinds:
            return outcome
    return "live" if "live" in kinds else (sorted(kinds)[0] if kinds else "unknown")


# -- trading state -----------------------------------------------------------------


def state_report(service: ControlService) -> dict[str, Any]:
    """Open and unsettled windows with their position, pending orders and time left; PnL.

    Time left is on the venue's clock (`venue_time`, `venue_rate`: as the freshest
    runner read it, carried forward to now); the wall clock until a runner has read it.
    """
    now = time.time()
    client = service.client()
    if client is not None:
        try:
            clock = venue_clock(_clock_readings(service, client), now)
            return {
                "plane": "redis", "server_time": round(now, 3), **_clock_fields(clock),
                **_redis_state(client, service, clock["time"] if clock else now),
            }  # fmt: skip
        except REDIS_UNAVAILABLE as exc:
            service.redis_problem = str(exc)
    return {
        "plane": "file",
        "server_time": round(now, 3),
        **_clock_fields(venue_clock(_clock_readings(service, None), now)),
        "note": file_note(service, "positions and orders live only in Redis: unknown; "
                          "nothing was read"),
        "windows": None,
        "pending_orders": None,
        "pnl": None,
    }  # fmt: skip


def _redis_state(client: redis.Redis, service: ControlService, now: float) -> dict[str, Any]:
    store = Store(client, service.settings.bot)
    live = sorted(set(store.open_markets()) | set(store.unsettled_markets()))
    snaps = store.snapshot(live)
    windows = [_window_row(s, now) for s in snaps.values() if s.window is not None]
    windows.sort(key=lambda w: (w["end_ts"], w["market"]))
    return {
        "windows": windows,
        "pending_orders": [order_row(o) for o in store.pending_orders()],
        "pnl": pnl(store.positions()),
    }


def venue_clock(readings: list[dict[str, Any]], now: float) -> dict[str, float] | None:
    """The venue's time at wall time `now` from the freshest runner reading; None without one."""
    if not readings:
        return None
    best = max(readings, key=lambda r: float(r["wall_time"]))
    rate = float(best.get("rate") or 1.0)
    venue_now = float(best["venue_time"]) + (now - float(best["wall_time"])) * rate
    return {"time": round(venue_now, 3), "rate": rate}


def _clock_fields(clock: dict[str, float] | None) -> dict[str, float | None]:
    return {
        "venue_time": clock["time"] if clock else None,
        "venue_rate": clock["rate"] if clock else None,
    }


def _clock_readings(service: ControlService, client: redis.Redis | None) -> list[dict[str, Any]]:
    """Each runner's last reading of the venue clock (runner hashes, else status.json)."""
    raw: list[Any] = []
    if client is not None:
        keys = service.keys
        replicas = sorted(cast(set[str], client.smembers(keys.runners)))
        pipe = client.pipeline(transaction=False)
        for replica in replicas:
            pipe.hget(keys.runner(replica), "venue_clock")
        raw = [_json_or_none(v) for v in pipe.execute()]
    else:
        status = read_json(service.settings.status_file)
        runners = status.get("runners") if isinstance(status, dict) else None
        if isinstance(runners, dict):
            raw = [s.get("venue_clock") for s in runners.values() if isinstance(s, dict)]
    fields = ("venue_time", "wall_time")
    return [
        r for r in raw
        if isinstance(r, dict) and all(isinstance(r.get(f), int | float) for f in fields)
    ]  # fmt: skip


def _json_or_none(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _window_row(snap: MarketSnapshot, now: float) -> dict[str, Any]:
    window = snap.window
    assert window is not None
    return {
        "market": window.market,
        "asset": window.asset,
        "interval": window.interval,
        "status": str(window.status),
        "start_ts": window.start_ts,
        "end_ts": window.end_ts,
        "time_left_s": round(max(window.end_ts - now, 0.0), 1),
        "start_price": window.start_price,
        "winner": window.winner,
        "position": position_row(snap.position),
        "pending_orders": [order_row(o) for o in snap.open_orders],
    }


def position_row(position: Position) -> dict[str, Any]:
    return {
        "up_shares": plain(position.up_shares),
        "down_shares": plain(position.down_shares),
        "cash": plain(position.cash),
        "fill_count": position.fill_count,
        "settled": position.settled,
        "realized_pnl": plain(position.realized_pnl),
    }


def order_row(order: Order) -> dict[str, Any]:
    return {
        "client_order_id": order.client_order_id,
        "market": order.market,
        "strategy": order.strategy,
        "outcome": order.outcome,
        "side": order.side,
        "price": plain(order.price),
        "size": plain(order.size),
        "filled": plain(order.filled),
        "status": str(order.status),
        "replica": order.replica,
        "created_at": order.created_at,
    }


def pnl(positions: Iterable[Position]) -> dict[str, Any]:
    """Realized PnL of settled markets; net cash of the open ones (negative: money at risk)."""
    realized, open_cash, fills, settled, open_count = Decimal(0), Decimal(0), 0, 0, 0
    for p in positions:
        fills += p.fill_count
        if p.settled:
            realized += p.realized_pnl
            settled += 1
        elif p.fill_count:
            open_cash += p.cash
            open_count += 1
    return {
        "realized": plain(realized),
        "open_cash": plain(open_cash),
        "settled_markets": settled,
        "open_positions": open_count,
        "fills": fills,
    }
